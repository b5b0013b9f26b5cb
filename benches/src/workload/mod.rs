//! The workloads: what each generated transaction does, and the starting state it needs.
//!
//! A workload has two halves, both deterministic in the seed:
//!
//! - **Setup** builds its starting state in the in-process [`Harness`] through a [`Setup`],
//!   which batches the real setup instructions into as few transactions as fit a packet
//!   (or, against a running node, collects the same transactions for the funder to sign:
//!   [`Setup::remote`]). The result is a [`Generator`] holding only addresses.
//! - **Generation**: [`Generator::transaction`] turns one [`Draw`] (the transaction's index
//!   and a random stream seeded by it) into instructions and the index of the paying user.
//!   Transactions are generated in parallel and in any order, so a generator never depends
//!   on what earlier transactions did: balances, reserves and capital are sized so that no
//!   user or pool runs dry in runs of up to a million transactions, even with two users or
//!   with every transaction on the hot pool.
//!
//! A transaction's only signer is its payer, a generated user, and every message is unique
//! (an amount or id grows with the index), so none is rejected as a replay.
//!
//! Contention: every workload sends a share `hot_ratio` of its transactions to one hot
//! account or pool (pool 0); the rest pick uniformly among users and pools, so transactions
//! of different users on different pools write disjoint accounts.
//!
//! [`Harness`]: braid_runtime::harness::Harness

mod amm;
mod insurance;
mod lending;
mod mix;
pub(crate) mod setup;
mod token;
mod transfer;

use std::collections::HashMap;

use braid_ledger::genesis::Genesis;
use braid_runtime::keypair::Keypair;
use braid_runtime::{Instruction, Pubkey};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::{BenchConfig, BenchError};
pub(crate) use setup::{RemoteStart, RentFn, Setup};

/// The most pools a run may ask for: setup writes accounts per user per pool (lending).
pub const POOLS_MAX: usize = 4_096;

/// What the transactions do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// System transfers between generated accounts.
    Transfer,
    /// SPL Token transfers between generated token accounts.
    Token,
    /// Constant-product swaps on `pools` pools.
    Amm,
    /// Deposits into and redemptions from `pools` lending reserves.
    Lending,
    /// Policy purchases from `pools` insurance pools.
    Insurance,
    /// A blend of all the others, chosen per transaction.
    Mix,
}

impl Workload {
    /// Whether the workload's transactions go to `--pools` pools.
    pub fn uses_pools(self) -> bool {
        !matches!(self, Self::Transfer | Self::Token)
    }
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Transfer => "transfer",
            Self::Token => "token",
            Self::Amm => "amm",
            Self::Lending => "lending",
            Self::Insurance => "insurance",
            Self::Mix => "mix",
        })
    }
}

/// One transaction's random choices: its index and a stream seeded by the run's seed and
/// that index, so the same transaction comes out whatever thread generates it.
pub(crate) struct Draw<'a> {
    /// The transaction's position in the run.
    pub index: usize,
    /// Every generated user, by index.
    pub users: &'a [Pubkey],
    hot_ratio: f64,
    rng: StdRng,
}

impl<'a> Draw<'a> {
    fn new(seed: u64, index: usize, users: &'a [Pubkey], hot_ratio: f64) -> Self {
        let stream = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self {
            index,
            users,
            hot_ratio: hot_ratio.clamp(0.0, 1.0),
            rng: StdRng::seed_from_u64(stream),
        }
    }

    /// A random user.
    pub fn user(&mut self) -> usize {
        self.rng.random_range(0..self.users.len().max(1))
    }

    /// A random user other than `from` (`from` itself if it is the only one).
    pub fn other_user(&mut self, from: usize) -> usize {
        let others = self.users.len().saturating_sub(1);
        if others == 0 {
            return from;
        }
        let step = self.rng.random_range(1..=others);
        from.saturating_add(step)
            .checked_rem(self.users.len())
            .unwrap_or(from)
    }

    /// Whether this transaction goes to the hot account or pool.
    pub fn hot(&mut self) -> bool {
        self.rng.random_bool(self.hot_ratio)
    }

    /// Pool 0 with probability `hot_ratio`, else a uniformly random one of `pools`.
    pub fn pool(&mut self, pools: usize) -> usize {
        if self.hot() {
            0
        } else {
            self.rng.random_range(0..pools.max(1))
        }
    }

    /// A fair coin.
    pub fn coin(&mut self) -> bool {
        self.rng.random_bool(0.5)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u32) -> u32 {
        self.rng.random_range(0..bound.max(1))
    }

    /// `base` plus the index: distinct for every transaction, so no two messages are equal.
    pub fn amount(&self, base: u64) -> u64 {
        base.saturating_add(self.index as u64)
    }
}

/// An instruction made once by its program's builder and then patched per use: builders that
/// derive a program address (a curve check per call) would otherwise dominate setup and
/// signing. Only the listed account positions and the trailing little-endian `u64` amounts
/// of the data change; [`Template::new`] checks that this reproduces the builder exactly.
pub(crate) struct Template {
    ix: Instruction,
    positions: Vec<usize>,
    amounts: usize,
}

impl Template {
    /// `build(keys, amounts)` must put `keys[i]` at account `positions[i]` and end the data
    /// with `amounts`; anything else is a [`BenchError::Setup`].
    pub fn new(
        positions: &[usize],
        amounts: usize,
        build: impl Fn(&[Pubkey], &[u64]) -> Instruction,
    ) -> Result<Self, BenchError> {
        let probe = |salt: u8| -> (Vec<Pubkey>, Vec<u64>) {
            let keys = (0..positions.len())
                .map(|i| Pubkey::new_from_array([salt ^ (i as u8); 32]))
                .collect();
            (
                keys,
                (0..amounts).map(|i| u64::from(salt) << (i % 8)).collect(),
            )
        };
        let (keys, values) = probe(0x5A);
        let template = Self {
            ix: build(&keys, &values),
            positions: positions.to_vec(),
            amounts,
        };
        let (keys, values) = probe(0xA5);
        if template.instantiate(&keys, &values) != build(&keys, &values) {
            return Err(BenchError::Setup(
                "an instruction builder's layout is not what the generator patches".into(),
            ));
        }
        Ok(template)
    }

    /// The instruction with `keys` at the template's positions and `amounts` at the end of
    /// the data.
    pub fn instantiate(&self, keys: &[Pubkey], amounts: &[u64]) -> Instruction {
        let mut ix = self.ix.clone();
        for (position, key) in self.positions.iter().zip(keys) {
            if let Some(meta) = ix.accounts.get_mut(*position) {
                meta.pubkey = *key;
            }
        }
        let start = ix.data.len().saturating_sub(self.amounts.saturating_mul(8));
        if let Some(tail) = ix.data.get_mut(start..) {
            for (bytes, amount) in tail.chunks_exact_mut(8).zip(amounts) {
                bytes.copy_from_slice(&amount.to_le_bytes());
            }
        }
        ix
    }
}

/// Makes a workload's transactions.
pub(crate) trait Generator: Send + Sync {
    /// The instructions of the drawn transaction and the index of its payer, its only
    /// signer.
    fn transaction(&self, draw: &mut Draw<'_>) -> (Vec<Instruction>, usize);
}

/// The starting state and the generator of a run: `S` is a [`Genesis`] in process, the
/// setup transactions ([`RemoteStart`]) for a running node.
pub(crate) struct Plan<S = Genesis> {
    /// The starting state: the measured ledger's genesis (everything the setup harness
    /// holds), or the transactions that build it on a node.
    pub start: S,
    /// The generated users: payers and only signers.
    pub users: Vec<Keypair>,
    pubkeys: Vec<Pubkey>,
    seed: u64,
    hot_ratio: f64,
    generator: Box<dyn Generator>,
}

impl<S> Plan<S> {
    /// The instructions of transaction `index` and the index of its payer.
    pub fn transaction(&self, index: usize) -> (Vec<Instruction>, usize) {
        let mut draw = Draw::new(self.seed, index, &self.pubkeys, self.hot_ratio);
        self.generator.transaction(&mut draw)
    }
}

/// The users of a run: derived from the seed.
pub(crate) fn users(config: &BenchConfig) -> Vec<Keypair> {
    (0..config.accounts)
        .into_par_iter()
        .map(|i| setup::keypair(config.seed, b"user", i))
        .collect()
}

/// Derives the users and builds the workload's starting state.
pub(crate) fn plan(config: &BenchConfig) -> Result<Plan, BenchError> {
    let users = users(config);
    let pubkeys: Vec<Pubkey> = users.iter().map(Keypair::pubkey).collect();
    let mut setup = Setup::new(config, &pubkeys)?;
    let generator = generator(config.workload, &mut setup, config)?;
    Ok(Plan {
        start: setup.finish()?,
        users,
        pubkeys,
        seed: config.seed,
        hot_ratio: config.hot_ratio,
        generator,
    })
}

/// The same plan for a running node: the same instructions, collected as setup
/// transactions (see [`Setup::remote`] for `rent`, `balances` and `tag`).
pub(crate) fn plan_remote(
    config: &BenchConfig,
    users: Vec<Keypair>,
    rent: RentFn,
    balances: HashMap<Pubkey, u64>,
    tag: &str,
) -> Result<Plan<RemoteStart>, BenchError> {
    let pubkeys: Vec<Pubkey> = users.iter().map(Keypair::pubkey).collect();
    let mut setup = Setup::remote(config, &pubkeys, rent, balances, tag)?;
    let generator = generator(config.workload, &mut setup, config)?;
    Ok(Plan {
        start: setup.finish_remote()?,
        users,
        pubkeys,
        seed: config.seed,
        hot_ratio: config.hot_ratio,
        generator,
    })
}

fn generator(
    workload: Workload,
    setup: &mut Setup,
    config: &BenchConfig,
) -> Result<Box<dyn Generator>, BenchError> {
    Ok(match workload {
        Workload::Transfer => Box::new(transfer::Transfers::setup(setup)?),
        Workload::Token => Box::new(token::TokenTransfers::setup(setup)?),
        Workload::Amm => Box::new(amm::Swaps::setup(setup, config)?),
        Workload::Lending => Box::new(lending::Lending::setup(setup, config)?),
        Workload::Insurance => Box::new(insurance::Policies::setup(setup, config)?),
        Workload::Mix => Box::new(mix::Mix::setup(setup, config)?),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use braid_runtime::harness::Harness;
    use braid_runtime::{Message, Transaction};

    use super::*;
    use crate::workload::setup::pseudo_signed;

    /// A remote plan of `workload` on few users and pools, rent as the runtime defines it.
    fn remote_plan(workload: Workload) -> Plan<RemoteStart> {
        let config = BenchConfig {
            workload,
            accounts: 6,
            pools: 2,
            txs: 64,
            ..BenchConfig::default()
        };
        let rent: RentFn = Box::new(|space| Ok(braid_runtime::rent::minimum_balance(space)));
        plan_remote(&config, users(&config), rent, HashMap::new(), "t-").unwrap()
    }

    /// A harness with every program and the funder holding what the plan says it pays.
    fn harness_for(plan: &Plan<RemoteStart>) -> (Harness, Pubkey) {
        let mut harness = Harness::new();
        harness.set_sigverify(false).set_log_messages(false);
        harness.add_programs(&braid_builtins::registry());
        let funder = setup::keypair(42, b"funder", 0).pubkey();
        harness
            .airdrop(
                &funder,
                plan.start.lamports.saturating_add(1_000_000_000_000),
            )
            .unwrap();
        (harness, funder)
    }

    fn send(harness: &mut Harness, payer: &Pubkey, instructions: &[Instruction]) -> bool {
        let tx: Transaction = pseudo_signed(Message::new_with_blockhash(
            instructions,
            Some(payer),
            &harness.latest_blockhash(),
        ));
        harness.send_transaction(tx).is_ok()
    }

    #[test]
    fn remote_setup_levels_let_a_node_run_each_level_in_any_order() {
        for workload in [
            Workload::Transfer,
            Workload::Token,
            Workload::Amm,
            Workload::Lending,
            Workload::Insurance,
            Workload::Mix,
        ] {
            let plan = remote_plan(workload);
            let (mut harness, funder) = harness_for(&plan);
            let mut levels: BTreeMap<u32, Vec<&setup::SetupTransaction>> = BTreeMap::new();
            for tx in &plan.start.transactions {
                levels.entry(tx.level).or_default().push(tx);
            }
            // Within a level, the worst order: last first.
            for level in levels.values() {
                for tx in level.iter().rev() {
                    assert!(
                        send(&mut harness, &funder, &tx.instructions),
                        "{workload}: setup transaction {} at level {}",
                        tx.number,
                        tx.level
                    );
                }
            }
            // The state it built carries the workload's transactions.
            for index in 0..32 {
                let (instructions, payer) = plan.transaction(index);
                let payer = plan.users[payer].pubkey();
                assert!(
                    send(&mut harness, &payer, &instructions),
                    "{workload}: transaction {index}"
                );
            }
        }
    }

    #[test]
    fn ignoring_the_levels_breaks_a_setup_that_needs_them() {
        // The check above can fail: AMM setup run last-first without levels does.
        let plan = remote_plan(Workload::Amm);
        assert!(plan.start.transactions.iter().any(|tx| tx.level > 1));
        let (mut harness, funder) = harness_for(&plan);
        let failed = plan
            .start
            .transactions
            .iter()
            .rev()
            .filter(|tx| !send(&mut harness, &funder, &tx.instructions))
            .count();
        assert!(failed > 0);
    }
}
