//! Property: lamports are conserved over random sequences of System instructions, including
//! failing ones. Every lamport is in some account or was paid as a fee.

// Test arithmetic runs on small, known values; an overflow would be a failing test anyway.
#![allow(clippy::arithmetic_side_effects)]

mod common;

use braid_program_system::instruction as system;
use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::{Instruction, Pubkey, Transaction};
use proptest::prelude::*;

const USERS: usize = 4;
const FUNDS: u64 = 1_000_000;

#[derive(Debug, Clone)]
enum Op {
    Transfer {
        from: usize,
        to: usize,
        lamports: u64,
    },
    Create {
        from: usize,
        lamports: u64,
        space: u64,
    },
    Allocate {
        user: usize,
        space: u64,
    },
    Assign {
        user: usize,
    },
    Garbage {
        from: usize,
        data: Vec<u8>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..USERS, 0..USERS, 0..FUNDS * 2).prop_map(|(from, to, lamports)| Op::Transfer {
            from,
            to,
            lamports
        }),
        (0..USERS, 0..FUNDS, 0..64u64).prop_map(|(from, lamports, space)| Op::Create {
            from,
            lamports,
            space
        }),
        (0..USERS, 0..64u64).prop_map(|(user, space)| Op::Allocate { user, space }),
        (0..USERS).prop_map(|user| Op::Assign { user }),
        (0..USERS, proptest::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(from, data)| Op::Garbage { from, data }),
    ]
}

fn total_lamports(harness: &Harness) -> u128 {
    harness
        .accounts()
        .iter()
        .map(|(_, account)| u128::from(account.lamports))
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn lamports_are_conserved(ops in proptest::collection::vec(op(), 1..24)) {
        let mut harness = common::harness();
        let users: Vec<Keypair> = (0..USERS).map(|_| common::funded(&mut harness, FUNDS)).collect();
        let initial = total_lamports(&harness);
        let mut fees = 0u128;
        for op in ops {
            let mut extra: Vec<Keypair> = Vec::new();
            let (payer, ix): (usize, Instruction) = match op {
                Op::Transfer { from, to, lamports } => {
                    (from, system::transfer(&users[from].pubkey(), &users[to].pubkey(), lamports))
                }
                Op::Create { from, lamports, space } => {
                    let new = Keypair::new();
                    let ix = system::create_account(&users[from].pubkey(), &new.pubkey(), lamports, space, &common::PROBE_ID);
                    extra.push(new);
                    (from, ix)
                }
                Op::Allocate { user, space } => (user, system::allocate(&users[user].pubkey(), space)),
                Op::Assign { user } => (user, system::assign(&users[user].pubkey(), &Pubkey::default())),
                Op::Garbage { from, data } => {
                    let mut ix = system::transfer(&users[from].pubkey(), &users[(from + 1) % USERS].pubkey(), 1);
                    ix.data = data;
                    (from, ix)
                }
            };
            let mut signers = vec![&users[payer]];
            signers.extend(extra.iter());
            let tx = Transaction::new_signed_with_payer(&[ix], Some(&users[payer].pubkey()), &signers, harness.latest_blockhash());
            match harness.send_transaction(tx) {
                Ok(meta) => fees += u128::from(meta.fee),
                Err(failed) => fees += u128::from(failed.meta.fee),
            }
            harness.expire_blockhash();
            prop_assert_eq!(total_lamports(&harness) + fees, initial);
        }
    }
}
