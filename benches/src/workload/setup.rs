//! Building a starting state with real instructions, fast enough for tens of thousands of
//! users.
//!
//! Everything is created and funded by one *funder*, the only signer of every setup
//! transaction: accounts are made with `CreateAccountWithSeed` on the funder's key (no
//! keypair per account to derive or sign with), the funder is the authority of the test
//! mints (users' balances are minted in place), and the funder seeds pools and reserves.
//! The harness runs without signature verification, so setup transactions carry
//! pseudo-signatures.
//!
//! Instructions are pushed in *groups* that must run together and in order (create an
//! account, then initialize it); groups are packed into as few packet-sized transactions as
//! fit. A transaction that fails aborts the setup with [`BenchError::Setup`].

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

/// The harness being set up, its funder, and the batch of instructions not yet sent.
pub(crate) struct Setup {
    harness: Harness,
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
        let mut setup = Self {
            harness,
            funder,
            seed: config.seed,
            users: users.to_vec(),
            created: 0,
            batch: Vec::new(),
            batch_bytes: 0,
            blockhash,
            sent: 0,
            mints: [None; 2],
            holdings: [None, None],
        };
        setup.airdrop(&funder, FUNDER_LAMPORTS)?;
        for user in users {
            setup.airdrop(user, ACCOUNT_FUNDS_LAMPORTS)?;
        }
        Ok(setup)
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

    /// Credits `lamports` to the system account `key`.
    pub fn airdrop(&mut self, key: &Pubkey, lamports: u64) -> Result<(), BenchError> {
        self.harness
            .airdrop(key, lamports)
            .map_err(|e| BenchError::Setup(format!("airdrop: {e}")))
    }

    /// A fresh address owned by `owner` and the instruction that creates it with `space`
    /// zeroed bytes; push the instruction in the same group as the initialization.
    pub fn account(
        &mut self,
        space: usize,
        owner: &Pubkey,
    ) -> Result<(Pubkey, Instruction), BenchError> {
        let seed = format!("{:x}", self.created);
        self.created = self.created.saturating_add(1);
        let address = braid_runtime::pda::create_with_seed(&self.funder, &seed, owner)
            .map_err(|e| BenchError::Setup(format!("account address: {e:?}")))?;
        let create = system::create_account_with_seed(
            &self.funder,
            &address,
            &self.funder,
            &seed,
            CREATED_ACCOUNT_LAMPORTS,
            space as u64,
            owner,
        );
        Ok((address, create))
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
        let tx = self.transaction(&batch);
        self.sent = self.sent.saturating_add(1);
        self.harness
            .send_transaction(tx)
            .map(|_| ())
            .map_err(|failed| {
                let programs: Vec<String> =
                    batch.iter().map(|ix| ix.program_id.to_string()).collect();
                BenchError::Setup(format!(
                    "setup transaction {} ({}) failed: {}",
                    self.sent,
                    programs.join(", "),
                    failed.err
                ))
            })
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
        let accounts = self
            .harness
            .accounts()
            .iter()
            .map(|(key, account)| (*key, account.clone()))
            .collect();
        Genesis::new(GENESIS_SLOT_MS, accounts)
            .map_err(|e| BenchError::Setup(format!("genesis: {e:?}")))
    }
}
