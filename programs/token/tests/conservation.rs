//! Property test: over random sequences of token instructions — mint, transfer (by owner, by
//! delegate, by a stranger), burn, approve, revoke, close — including the many that fail,
//! every mint's supply equals the sum of its accounts' balances, lamports are conserved
//! (all balances plus the fees paid equal the starting total), and a failed transaction
//! changes nothing but its fee.

mod common;

use braid_program_token::{TokenAccount, instruction};
use braid_runtime::keypair::Keypair;
use braid_runtime::{Instruction, Pubkey};
use common::Env;
use proptest::prelude::*;

/// Two mints (the transfer strategy flips between them with `^ 1`).
const MINTS: usize = 2;
const OWNERS: usize = 3;
const DELEGATES: usize = 2;
/// One account per (owner, mint): account `i` belongs to owner `i / MINTS`, mint `i % MINTS`.
const ACCOUNTS: usize = OWNERS * MINTS;
const DECIMALS: u8 = 3;

#[derive(Debug, Clone)]
enum Op {
    MintTo {
        account: usize,
        amount: u64,
        right_authority: bool,
    },
    Transfer {
        from: usize,
        to: usize,
        amount: u64,
        signer: Signer,
        checked: bool,
    },
    Burn {
        account: usize,
        amount: u64,
        signer: Signer,
    },
    Approve {
        account: usize,
        delegate: usize,
        amount: u64,
    },
    Revoke {
        account: usize,
    },
    Close {
        account: usize,
        destination: usize,
        signer: Signer,
    },
}

/// Who signs as the authority.
#[derive(Debug, Clone, Copy)]
enum Signer {
    /// The account's owner.
    Owner,
    /// Delegate keypair `i` (the account's delegate or not).
    Delegate(usize),
    /// Owner `i` (the account's owner or not).
    AnyOwner(usize),
}

fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => 0u64..600,
        1 => Just(u64::MAX),
        1 => (u64::MAX / 2)..=u64::MAX,
    ]
}

/// Amounts to spend: mostly within what minting gives an account.
fn small_amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        9 => 0u64..200,
        1 => amount(),
    ]
}

fn signer() -> impl Strategy<Value = Signer> {
    prop_oneof![
        6 => Just(Signer::Owner),
        3 => (0..DELEGATES).prop_map(Signer::Delegate),
        1 => (0..OWNERS).prop_map(Signer::AnyOwner),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let account = 0..ACCOUNTS;
    prop_oneof![
        4 => (account.clone(), amount(), prop::bool::weighted(0.9))
            .prop_map(|(account, amount, right_authority)| Op::MintTo { account, amount, right_authority }),
        // Mostly to an account of the same mint (another owner's, or the same one).
        6 => (account.clone(), 0..OWNERS, prop::bool::weighted(0.85), small_amount(), signer(), any::<bool>())
            .prop_map(|(from, to_owner, same_mint, amount, signer, checked)| {
                let mint = if same_mint { from % MINTS } else { (from % MINTS) ^ 1 };
                let to = to_owner.checked_mul(MINTS).and_then(|i| i.checked_add(mint)).unwrap();
                Op::Transfer { from, to, amount, signer, checked }
            }),
        3 => (account.clone(), small_amount(), signer()).prop_map(|(account, amount, signer)| Op::Burn { account, amount, signer }),
        3 => (account.clone(), 0..DELEGATES, amount())
            .prop_map(|(account, delegate, amount)| Op::Approve { account, delegate, amount }),
        1 => account.clone().prop_map(|account| Op::Revoke { account }),
        1 => (account.clone(), 0..=ACCOUNTS, signer())
            .prop_map(|(account, destination, signer)| Op::Close { account, destination, signer }),
    ]
}

struct World {
    env: Env,
    mint_authority: Keypair,
    mints: Vec<Pubkey>,
    owners: Vec<Keypair>,
    delegates: Vec<Keypair>,
    accounts: Vec<Pubkey>,
    /// A plain system account that receives closed accounts' lamports.
    sink: Pubkey,
    starting_lamports: u128,
    fees_paid: u128,
}

impl World {
    fn new() -> Self {
        let mut env = Env::new();
        let mint_authority = Keypair::new();
        let mints: Vec<Pubkey> = (0..MINTS)
            .map(|_| env.create_mint(&mint_authority.pubkey(), None, DECIMALS))
            .collect();
        let owners: Vec<Keypair> = (0..OWNERS).map(|_| Keypair::new()).collect();
        let delegates: Vec<Keypair> = (0..DELEGATES).map(|_| Keypair::new()).collect();
        let accounts = (0..ACCOUNTS)
            .map(|i| env.create_account(&mints[i % MINTS], &owners[i / MINTS].pubkey()))
            .collect();
        let sink = Pubkey::new_from_array([0x51; 32]);
        let mut world = Self {
            env,
            mint_authority,
            mints,
            owners,
            delegates,
            accounts,
            sink,
            starting_lamports: 0,
            fees_paid: 0,
        };
        world.starting_lamports = world.total_lamports();
        world
    }

    fn total_lamports(&self) -> u128 {
        self.env
            .h
            .accounts()
            .iter()
            .map(|(_, account)| u128::from(account.lamports))
            .sum()
    }

    fn signer_for(&self, account: usize, signer: Signer) -> &Keypair {
        match signer {
            Signer::Owner => &self.owners[account / MINTS],
            Signer::Delegate(i) => &self.delegates[i],
            Signer::AnyOwner(i) => &self.owners[i],
        }
    }

    fn instruction(&self, op: &Op) -> (Instruction, &Keypair) {
        let key = |i: usize| self.accounts[i];
        let mint_of = |i: usize| self.mints[i % MINTS];
        match *op {
            Op::MintTo {
                account,
                amount,
                right_authority,
            } => {
                let authority = if right_authority {
                    &self.mint_authority
                } else {
                    &self.owners[0]
                };
                (
                    instruction::mint_to(
                        &mint_of(account),
                        &key(account),
                        &authority.pubkey(),
                        amount,
                    ),
                    authority,
                )
            }
            Op::Transfer {
                from,
                to,
                amount,
                signer,
                checked,
            } => {
                let authority = self.signer_for(from, signer);
                let ix = if checked {
                    instruction::transfer_checked(
                        &key(from),
                        &mint_of(from),
                        &key(to),
                        &authority.pubkey(),
                        amount,
                        DECIMALS,
                    )
                } else {
                    instruction::transfer(&key(from), &key(to), &authority.pubkey(), amount)
                };
                (ix, authority)
            }
            Op::Burn {
                account,
                amount,
                signer,
            } => {
                let authority = self.signer_for(account, signer);
                (
                    instruction::burn(
                        &key(account),
                        &mint_of(account),
                        &authority.pubkey(),
                        amount,
                    ),
                    authority,
                )
            }
            Op::Approve {
                account,
                delegate,
                amount,
            } => {
                let owner = &self.owners[account / MINTS];
                let ix = instruction::approve(
                    &key(account),
                    &self.delegates[delegate].pubkey(),
                    &owner.pubkey(),
                    amount,
                );
                (ix, owner)
            }
            Op::Revoke { account } => {
                let owner = &self.owners[account / MINTS];
                (instruction::revoke(&key(account), &owner.pubkey()), owner)
            }
            Op::Close {
                account,
                destination,
                signer,
            } => {
                let authority = self.signer_for(account, signer);
                let destination = if destination == ACCOUNTS {
                    self.sink
                } else {
                    key(destination)
                };
                (
                    instruction::close_account(&key(account), &destination, &authority.pubkey()),
                    authority,
                )
            }
        }
    }

    /// Applies `op`; returns whether it succeeded. Checks that a failure changed nothing but
    /// the fee.
    fn apply(&mut self, op: &Op) -> bool {
        let (ix, signer) = self.instruction(op);
        let signer = Keypair::from_bytes(&signer.to_bytes()).unwrap();
        let before = self.env.snapshot();
        match self.env.send(&[ix], &[&signer]) {
            Ok(meta) => {
                self.fees_paid = self.fees_paid.checked_add(u128::from(meta.fee)).unwrap();
                true
            }
            Err(failed) => {
                assert!(
                    matches!(
                        failed.err,
                        braid_runtime::TransactionError::InstructionError(0, _)
                    ),
                    "{op:?}: {:?}",
                    failed.err
                );
                self.fees_paid = self
                    .fees_paid
                    .checked_add(u128::from(failed.meta.fee))
                    .unwrap();
                let payer = self.env.payer.pubkey();
                let mut after = self.env.snapshot();
                for (key, account) in &mut after {
                    if *key == payer {
                        account.lamports = account.lamports.checked_add(failed.meta.fee).unwrap();
                    }
                }
                assert_eq!(
                    before, after,
                    "{op:?} failed with {:?} but changed state",
                    failed.err
                );
                false
            }
        }
    }

    fn check_invariants(&self) {
        for (m, mint) in self.mints.iter().enumerate() {
            let supply = self.env.mint(mint).supply;
            let balances: u128 = (m..ACCOUNTS)
                .step_by(MINTS)
                .filter_map(|i| self.env.h.get_account(&self.accounts[i]))
                // A closed account's address may be funded again as a plain system account.
                .filter(|account| account.owner == braid_program_token::ID)
                .map(|account| u128::from(TokenAccount::unpack(&account.data).unwrap().amount))
                .sum();
            assert_eq!(u128::from(supply), balances, "supply of mint {m}");
        }
        assert_eq!(
            self.total_lamports().checked_add(self.fees_paid),
            Some(self.starting_lamports),
            "lamports conserved"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn supply_and_lamports_are_conserved(ops in prop::collection::vec(op(), 1..60)) {
        let mut world = World::new();
        for op in &ops {
            world.apply(op);
            world.check_invariants();
        }
    }
}

/// A fixed sequence that exercises every path once, so the property test is never the only
/// witness that successes happen.
#[test]
fn scripted_sequence_succeeds_where_expected() {
    let mut world = World::new();
    let script = [
        (
            Op::MintTo {
                account: 0,
                amount: 500,
                right_authority: true,
            },
            true,
        ),
        (
            Op::MintTo {
                account: 1,
                amount: 500,
                right_authority: false,
            },
            false,
        ),
        (
            Op::Transfer {
                from: 0,
                to: 2,
                amount: 100,
                signer: Signer::Owner,
                checked: false,
            },
            true,
        ),
        (
            Op::Transfer {
                from: 0,
                to: 1,
                amount: 1,
                signer: Signer::Owner,
                checked: false,
            },
            false,
        ), // other mint
        (
            Op::Approve {
                account: 0,
                delegate: 1,
                amount: 50,
            },
            true,
        ),
        (
            Op::Transfer {
                from: 0,
                to: 4,
                amount: 50,
                signer: Signer::Delegate(1),
                checked: true,
            },
            true,
        ),
        (
            Op::Transfer {
                from: 0,
                to: 4,
                amount: 1,
                signer: Signer::Delegate(1),
                checked: false,
            },
            false,
        ), // spent
        (
            Op::Burn {
                account: 2,
                amount: 100,
                signer: Signer::Owner,
            },
            true,
        ),
        (
            Op::Close {
                account: 2,
                destination: ACCOUNTS,
                signer: Signer::Owner,
            },
            true,
        ),
        (
            Op::Close {
                account: 4,
                destination: 0,
                signer: Signer::Owner,
            },
            false,
        ), // balance
        (Op::Revoke { account: 0 }, true),
        (
            Op::MintTo {
                account: 0,
                amount: u64::MAX,
                right_authority: true,
            },
            false,
        ), // overflow
    ];
    for (op, expected) in &script {
        assert_eq!(world.apply(op), *expected, "{op:?}");
        world.check_invariants();
    }
    assert_eq!(world.env.mint(&world.mints[0]).supply, 400);
    assert_eq!(world.env.h.get_account(&world.accounts[2]), None);
    assert_eq!(world.env.lamports(&world.sink), common::ACCOUNT_LAMPORTS);
}

/// The case proptest first found (in the test, not the program): closing an account into
/// an already-closed one funds that address again as a plain System account.
#[test]
fn closing_into_a_closed_account_funds_a_system_account() {
    let mut world = World::new();
    let script = [
        Op::Close {
            account: 3,
            destination: 0,
            signer: Signer::Owner,
        },
        Op::Close {
            account: 0,
            destination: 3,
            signer: Signer::Owner,
        },
    ];
    for op in &script {
        assert!(world.apply(op), "{op:?}");
        world.check_invariants();
    }
    let revived = world.env.h.get_account(&world.accounts[3]).unwrap();
    assert_eq!(revived.owner, braid_runtime::SYSTEM_PROGRAM_ID);
    assert!(revived.data.is_empty());
    assert_eq!(revived.lamports, 2 * common::ACCOUNT_LAMPORTS);
}
