//! Building a starting state with real instructions, fast enough for tens of thousands of
//! users.
//!
//! Everything is created and funded by one *funder*, the only signer of every setup
//! transaction: accounts are made with `CreateAccountWithSeed` on the funder's key (no
//! keypair per account to derive or sign with), the funder is the authority of the test
//! mints (users' balances are minted in place), and the funder seeds pools and reserves.
//!
//! Instructions are pushed in *groups* that must run together and in order (create an
//! account, then initialize it); groups are packed into as few packet-sized transactions as
//! fit. Where the transactions go is the [`Setup`]'s backend, and the workloads never know:
//!
//! - **Genesis** ([`Setup::new`]): executed at once in the in-process harness, which runs
//!   without signature verification (setup transactions carry pseudo-signatures); its
//!   accounts become the measured ledger's genesis. A transaction that fails aborts the
//!   setup with [`BenchError::Setup`].
//! - **Remote** ([`Setup::remote`]): collected as [`SetupTransaction`]s for a running node,
//!   where the funder really signs them (`crate::remote`). Airdrops become System
//!   transfers from the funder, created accounts hold the node's rent-exempt minimum, and
//!   each transaction gets a *level*: one more than the highest level of the transactions
//!   that created an account it names, so a node may run a level's transactions in any
//!   order once every lower level is finalized.

use std::collections::{BTreeMap, HashMap, HashSet};

use braid_ledger::genesis::Genesis;
use braid_program_system::instruction as system;
use braid_program_token as token;
use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::sanitized::PACKET_DATA_BYTES_MAX;
use braid_runtime::{Hash, Instruction, Message, Pubkey, Signature, Transaction};

use crate::{ACCOUNT_FUNDS_LAMPORTS, ACCOUNT_TOKENS, BenchConfig, BenchError, MINT_DECIMALS};

/// Lamports every created account holds (Braid has no rent; an account needs lamports to
/// exist).
const CREATED_ACCOUNT_LAMPORTS: u64 = 1_000_000;
/// The funder's lamports: it pays for every created account and setup fee.
const FUNDER_LAMPORTS: u64 = 1_000_000_000_000_000_000;
/// Slot length written into the genesis, in milliseconds.
const GENESIS_SLOT_MS: u64 = 400;
/// Longest seed tag of a remote setup: a created account's seed is the tag and a counter
/// in hex, within the 32 characters a seed may have.
pub(crate) const SEED_TAG_CHARS_MAX: usize = 16;

/// The keypair for `purpose` number `index` of a run: derived from the seed, so every run
/// with the same seed has the same users.
pub(crate) fn keypair(seed: u64, purpose: &[u8], index: usize) -> Keypair {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&seed.to_le_bytes());
    hasher.update(purpose);
    hasher.update(&(index as u64).to_le_bytes());
    Keypair::from_seed(hasher.finalize().as_bytes())
}

/// `message` as a transaction whose signatures are a hash of the message: unique per
/// message, as transaction ids must be, and free to make where nothing verifies them.
pub(crate) fn pseudo_signed(message: Message) -> Transaction {
    let mut pseudo = [0u8; 64];
    blake3::Hasher::new()
        .update(&message.serialize())
        .finalize_xof()
        .fill(&mut pseudo);
    let signers = usize::from(message.header.num_required_signatures);
    let mut tx = Transaction::new_unsigned(message);
    tx.signatures = vec![Signature(pseudo); signers];
    tx
}

/// The two test tokens. Every workload that moves tokens uses [`Asset::A`]; swaps trade it
/// for [`Asset::B`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asset {
    /// The main token: token transfers, one side of every pool, lending liquidity,
    /// insurance capital and premiums.
    A,
    /// The other side of AMM pools.
    B,
}

impl Asset {
    fn slot(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }
}

/// Lamports an account of this many data bytes needs on the node being set up.
pub(crate) type RentFn = Box<dyn FnMut(u64) -> Result<u64, BenchError>>;

/// A setup transaction for a running node: its instructions, paid and signed by the funder
/// (and by any account it creates that must sign for itself).
#[derive(Debug, Clone)]
pub(crate) struct SetupTransaction {
    /// Its number in setup order, from 1 (what an error names).
    pub number: u64,
    /// It may run once every transaction of a lower level is finalized.
    pub level: u32,
    /// Its instructions; the funder pays and signs.
    pub instructions: Vec<Instruction>,
    /// Who else signs: accounts that must sign their own initialization
    /// ([`Setup::signing_account`]).
    pub signers: Vec<Keypair>,
}

/// A remote setup's transactions and what they cost the funder.
pub(crate) struct RemoteStart {
    /// Every setup transaction, in setup order.
    pub transactions: Vec<SetupTransaction>,
    /// Lamports the funder pays: created accounts, transfers and one signature's fee per
    /// transaction (what programs charge it through cross-program calls, such as an
    /// insurance position's rent, is not counted).
    pub lamports: u64,
}

/// Where setup transactions go.
enum Backend {
    /// Executed at once in an in-process harness, which becomes the genesis.
    Genesis(Box<Harness>),
    /// Collected for a running node.
    Remote(Box<Remote>),
}

/// The remote backend's state.
struct Remote {
    rent: RentFn,
    /// Rent-exempt minimum by data size, as the node answered.
    rent_by_space: BTreeMap<u64, u64>,
    /// Lamports accounts already hold on the node: airdrops top them up.
    balances: HashMap<Pubkey, u64>,
    /// Prefix of every created account's seed, so one funder can set up a node again.
    tag: String,
    transactions: Vec<SetupTransaction>,
    /// Addresses handed out by [`Setup::account`] whose creation has not been sent yet.
    uncreated: HashSet<Pubkey>,
    /// Created addresses and the level of the transaction creating them.
    created_at: HashMap<Pubkey, u32>,
    /// Keypairs of created accounts that sign their initialization.
    signers: HashMap<Pubkey, Keypair>,
    lamports: u64,
}

impl Remote {
    fn add_lamports(&mut self, lamports: u64) -> Result<(), BenchError> {
        self.lamports = self.lamports.checked_add(lamports).ok_or_else(|| {
            BenchError::Setup("the setup needs more than u64::MAX lamports".into())
        })?;
        Ok(())
    }
}

/// The starting state being built (its backend), its funder, and the batch of instructions
/// not yet sent.
pub(crate) struct Setup {
    backend: Backend,
    funder: Pubkey,
    seed: u64,
    users: Vec<Pubkey>,
    /// Accounts created so far: the next `CreateAccountWithSeed` seed.
    created: u64,
    batch: Vec<Instruction>,
    /// An upper bound of the batch's size as a transaction, exact after each measurement.
    batch_bytes: usize,
    blockhash: Hash,
    sent: u64,
    mints: [Option<Pubkey>; 2],
    holdings: [Option<Vec<Pubkey>>; 2],
}

impl Setup {
    /// A harness running every bench program, with the users and the funder funded.
    pub fn new(config: &BenchConfig, users: &[Pubkey]) -> Result<Self, BenchError> {
        let mut harness = Harness::new();
        harness.set_sigverify(false).set_log_messages(false);
        harness.add_programs(&braid_builtins::registry());
        let funder = keypair(config.seed, b"funder", 0).pubkey();
        let blockhash = harness.latest_blockhash();
        let mut setup = Self::with_backend(
            config,
            users,
            Backend::Genesis(Box::new(harness)),
            blockhash,
        );
        setup.airdrop(&funder, FUNDER_LAMPORTS)?;
        setup.fund_users()?;
        Ok(setup)
    }

    /// A setup collecting transactions for a running node ([`Setup::finish_remote`]):
    /// `rent` asks the node what an account of a size needs, `balances` is what accounts
    /// already hold there (users of an earlier run with this seed are only topped up), and
    /// `tag` (at most [`SEED_TAG_CHARS_MAX`] characters) starts every created account's
    /// seed, so a run with another tag creates fresh accounts. The funder is funded by the
    /// caller.
    pub fn remote(
        config: &BenchConfig,
        users: &[Pubkey],
        rent: RentFn,
        balances: HashMap<Pubkey, u64>,
        tag: &str,
    ) -> Result<Self, BenchError> {
        if tag.len() > SEED_TAG_CHARS_MAX {
            return Err(BenchError::Setup(format!(
                "seed tag {tag:?} is longer than {SEED_TAG_CHARS_MAX} characters"
            )));
        }
        let remote = Remote {
            rent,
            rent_by_space: BTreeMap::new(),
            balances,
            tag: tag.to_owned(),
            transactions: Vec::new(),
            uncreated: HashSet::new(),
            created_at: HashMap::new(),
            signers: HashMap::new(),
            lamports: 0,
        };
        let mut setup = Self::with_backend(
            config,
            users,
            Backend::Remote(Box::new(remote)),
            Hash::default(),
        );
        setup.fund_users()?;
        Ok(setup)
    }

    fn with_backend(
        config: &BenchConfig,
        users: &[Pubkey],
        backend: Backend,
        blockhash: Hash,
    ) -> Self {
        Self {
            backend,
            funder: keypair(config.seed, b"funder", 0).pubkey(),
            seed: config.seed,
            users: users.to_vec(),
            created: 0,
            batch: Vec::new(),
            batch_bytes: 0,
            blockhash,
            sent: 0,
            mints: [None; 2],
            holdings: [None, None],
        }
    }

    fn fund_users(&mut self) -> Result<(), BenchError> {
        for user in self.users.clone() {
            self.airdrop(&user, ACCOUNT_FUNDS_LAMPORTS)?;
        }
        Ok(())
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The generated users.
    pub fn users(&self) -> &[Pubkey] {
        &self.users
    }

    /// The funder: signer of every setup transaction, mint authority of the test tokens.
    pub fn funder(&self) -> Pubkey {
        self.funder
    }

    /// Credits `lamports` to the system account `key` (on a node: tops it up to `lamports`
    /// with a transfer from the funder).
    pub fn airdrop(&mut self, key: &Pubkey, lamports: u64) -> Result<(), BenchError> {
        match &mut self.backend {
            Backend::Genesis(harness) => harness
                .airdrop(key, lamports)
                .map_err(|e| BenchError::Setup(format!("airdrop: {e}"))),
            Backend::Remote(remote) => {
                let held = remote.balances.get(key).copied().unwrap_or(0);
                let missing = lamports.saturating_sub(held);
                if missing == 0 {
                    return Ok(());
                }
                remote.add_lamports(missing)?;
                let funder = self.funder;
                self.push(vec![system::transfer(&funder, key, missing)])
            }
        }
    }

    /// A fresh address owned by `owner` and the instruction that creates it with `space`
    /// zeroed bytes; push the instruction in the same group as the initialization.
    pub fn account(
        &mut self,
        space: usize,
        owner: &Pubkey,
    ) -> Result<(Pubkey, Instruction), BenchError> {
        let lamports = self.created_lamports(space)?;
        let seed = match &self.backend {
            Backend::Genesis(_) => format!("{:x}", self.created),
            Backend::Remote(remote) => format!("{}{:x}", remote.tag, self.created),
        };
        self.created = self.created.saturating_add(1);
        let address = braid_runtime::pda::create_with_seed(&self.funder, &seed, owner)
            .map_err(|e| BenchError::Setup(format!("account address: {e:?}")))?;
        if let Backend::Remote(remote) = &mut self.backend {
            remote.uncreated.insert(address);
        }
        let create = system::create_account_with_seed(
            &self.funder,
            &address,
            &self.funder,
            &seed,
            lamports,
            space as u64,
            owner,
        );
        Ok((address, create))
    }

    /// Like [`Setup::account`], for an account that must also sign its initialization (an
    /// insurance pool). In the harness, which verifies no signatures, this is
    /// [`Setup::account`]; on a node the account is a keypair derived from the seed and the
    /// run's tag, which signs the transaction that creates it.
    pub fn signing_account(
        &mut self,
        space: usize,
        owner: &Pubkey,
    ) -> Result<(Pubkey, Instruction), BenchError> {
        if matches!(self.backend, Backend::Genesis(_)) {
            return self.account(space, owner);
        }
        let lamports = self.created_lamports(space)?;
        let Backend::Remote(remote) = &mut self.backend else {
            return Err(BenchError::Setup("the setup's backend changed".into()));
        };
        let purpose = format!("signing account {}", remote.tag);
        let signer = keypair(self.seed, purpose.as_bytes(), self.created as usize);
        self.created = self.created.saturating_add(1);
        let address = signer.pubkey();
        remote.uncreated.insert(address);
        remote.signers.insert(address, signer);
        let create = system::create_account(&self.funder, &address, lamports, space as u64, owner);
        Ok((address, create))
    }

    /// Lamports a created account of `space` bytes holds: [`CREATED_ACCOUNT_LAMPORTS`] in
    /// the harness, the node's rent-exempt minimum on a node (counted as the funder's cost).
    fn created_lamports(&mut self, space: usize) -> Result<u64, BenchError> {
        let Backend::Remote(remote) = &mut self.backend else {
            return Ok(CREATED_ACCOUNT_LAMPORTS);
        };
        let space = space as u64;
        let lamports = match remote.rent_by_space.get(&space) {
            Some(&lamports) => lamports,
            None => {
                let lamports = (remote.rent)(space)?.max(1);
                remote.rent_by_space.insert(space, lamports);
                lamports
            }
        };
        remote.add_lamports(lamports)?;
        Ok(lamports)
    }

    /// A new mint of [`MINT_DECIMALS`] with `authority`, no freeze authority.
    pub fn mint(&mut self, authority: &Pubkey) -> Result<Pubkey, BenchError> {
        let (mint, create) = self.account(token::MINT_LEN, &token::ID)?;
        self.push(vec![
            create,
            token::instruction::initialize_mint2(&mint, authority, None, MINT_DECIMALS),
        ])?;
        Ok(mint)
    }

    /// A new token account of `mint` owned by `owner`, holding `amount` minted by the funder
    /// (which must then be the mint's authority).
    pub fn token_account(
        &mut self,
        mint: &Pubkey,
        owner: &Pubkey,
        amount: u64,
    ) -> Result<Pubkey, BenchError> {
        let (account, create) = self.account(token::ACCOUNT_LEN, &token::ID)?;
        let mut group = vec![
            create,
            token::instruction::initialize_account3(&account, mint, owner),
        ];
        if amount > 0 {
            group.push(token::instruction::mint_to(
                mint,
                &account,
                &self.funder,
                amount,
            ));
        }
        self.push(group)?;
        Ok(account)
    }

    /// The mint of `asset`, created on first use.
    pub fn asset_mint(&mut self, asset: Asset) -> Result<Pubkey, BenchError> {
        if let Some(mint) = self.mints[asset.slot()] {
            return Ok(mint);
        }
        let funder = self.funder;
        let mint = self.mint(&funder)?;
        self.mints[asset.slot()] = Some(mint);
        Ok(mint)
    }

    /// Every user's token account of `asset` (by user index), each starting with
    /// [`ACCOUNT_TOKENS`]; created on first use and shared by the workloads of a mix.
    pub fn holdings(&mut self, asset: Asset) -> Result<Vec<Pubkey>, BenchError> {
        if let Some(accounts) = &self.holdings[asset.slot()] {
            return Ok(accounts.clone());
        }
        let mint = self.asset_mint(asset)?;
        let users = self.users.clone();
        let accounts = users
            .iter()
            .map(|user| self.token_account(&mint, user, ACCOUNT_TOKENS))
            .collect::<Result<Vec<_>, _>>()?;
        self.holdings[asset.slot()] = Some(accounts.clone());
        Ok(accounts)
    }

    /// Queues `group`, sending the batch first if the group would not fit in it.
    pub fn push(&mut self, group: Vec<Instruction>) -> Result<(), BenchError> {
        // Generous per-instruction bound: program and account keys, indexes, data, lengths.
        let bound: usize = group
            .iter()
            .map(|ix| {
                ix.data
                    .len()
                    .saturating_add(ix.accounts.len().saturating_add(1).saturating_mul(33))
                    .saturating_add(8)
            })
            .sum();
        let header = 1usize
            .saturating_add(64)
            .saturating_add(3)
            .saturating_add(32)
            .saturating_add(32)
            .saturating_add(3);
        if self.batch_bytes.max(header).saturating_add(bound) <= PACKET_DATA_BYTES_MAX {
            self.batch_bytes = self.batch_bytes.max(header).saturating_add(bound);
            self.batch.extend(group);
            return Ok(());
        }
        let mut candidate = self.batch.clone();
        candidate.extend(group.iter().cloned());
        let bytes = self.transaction(&candidate).to_bytes().len();
        if bytes <= PACKET_DATA_BYTES_MAX {
            self.batch = candidate;
            self.batch_bytes = bytes;
            return Ok(());
        }
        self.flush()?;
        let bytes = self.transaction(&group).to_bytes().len();
        if bytes > PACKET_DATA_BYTES_MAX {
            return Err(BenchError::Setup(format!(
                "a setup step needs {bytes} bytes, more than a packet"
            )));
        }
        self.batch = group;
        self.batch_bytes = bytes;
        Ok(())
    }

    /// Sends the queued instructions as one transaction.
    pub fn flush(&mut self) -> Result<(), BenchError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        self.sent = self.sent.saturating_add(1);
        match &mut self.backend {
            Backend::Genesis(harness) => {
                let tx = pseudo_signed(Message::new_with_blockhash(
                    &batch,
                    Some(&self.funder),
                    &self.blockhash,
                ));
                harness.send_transaction(tx).map(|_| ()).map_err(|failed| {
                    BenchError::Setup(format!(
                        "setup transaction {} ({}) failed: {}",
                        self.sent,
                        programs(&batch),
                        failed.err
                    ))
                })
            }
            Backend::Remote(remote) => {
                remote.add_lamports(braid_runtime::fee::LAMPORTS_PER_SIGNATURE)?;
                let keys = || {
                    batch
                        .iter()
                        .flat_map(|ix| ix.accounts.iter().map(|m| m.pubkey))
                };
                let level = keys()
                    .filter_map(|key| remote.created_at.get(&key))
                    .map(|level| level.saturating_add(1))
                    .max()
                    .unwrap_or(0);
                let mut signers: Vec<Keypair> = Vec::new();
                for key in keys() {
                    if remote.uncreated.remove(&key) {
                        remote.created_at.insert(key, level);
                    }
                    if let Some(signer) = remote.signers.remove(&key) {
                        signers.push(signer);
                    }
                }
                remote.transactions.push(SetupTransaction {
                    number: self.sent,
                    level,
                    instructions: batch,
                    signers,
                });
                Ok(())
            }
        }
    }

    fn transaction(&self, instructions: &[Instruction]) -> Transaction {
        pseudo_signed(Message::new_with_blockhash(
            instructions,
            Some(&self.funder),
            &self.blockhash,
        ))
    }

    /// Sends what is queued and exports every account as the genesis.
    pub fn finish(mut self) -> Result<Genesis, BenchError> {
        self.flush()?;
        let Backend::Genesis(harness) = &self.backend else {
            return Err(BenchError::Setup(
                "a setup for a running node has no genesis".into(),
            ));
        };
        let accounts = harness
            .accounts()
            .iter()
            .map(|(key, account)| (*key, account.clone()))
            .collect();
        Genesis::new(GENESIS_SLOT_MS, accounts)
            .map_err(|e| BenchError::Setup(format!("genesis: {e:?}")))
    }

    /// Queues what is left and returns the transactions for a running node.
    pub fn finish_remote(mut self) -> Result<RemoteStart, BenchError> {
        self.flush()?;
        let Backend::Remote(remote) = self.backend else {
            return Err(BenchError::Setup(
                "a genesis setup has no transactions to send".into(),
            ));
        };
        Ok(RemoteStart {
            transactions: remote.transactions,
            lamports: remote.lamports,
        })
    }
}

/// The programs `instructions` call, comma-separated (what a setup error names).
pub(crate) fn programs(instructions: &[Instruction]) -> String {
    let programs: Vec<String> = instructions
        .iter()
        .map(|ix| ix.program_id.to_string())
        .collect();
    programs.join(", ")
}
