//! Property test through the harness: random sequences of swaps, deposits and withdrawals
//! (many of them failing) sent to the program, which must agree exactly with the model in
//! `common/model.rs` — the same error for each failure, the same balance in every account
//! after each instruction. Harness cases are slow next to the pure model, so there are fewer
//! of them; `properties.rs` runs the invariants over thousands of model cases.

#![allow(clippy::arithmetic_side_effects)] // test arithmetic on amounts bounded by u64 in u128

mod common;

use braid_program_amm::curve::INITIAL_SWAP_POOL_AMOUNT;
use braid_program_amm::instruction::{self as ix, TradeDirection};
use braid_runtime::TransactionError;
use common::model::{Concrete, Holdings, Model, amount, fees, op};
use common::{Env, Setup, User};
use proptest::prelude::*;

const CASES: u32 = 256;
const USERS: usize = 3;
const BALANCE_MAX: u64 = 1 << 50;

fn send(
    env: &mut Env,
    setup: &Setup,
    users: &[User],
    creator: &User,
    op: Concrete,
) -> Result<(), TransactionError> {
    let user = |index: usize| {
        if index < users.len() {
            &users[index]
        } else {
            creator
        }
    };
    let (instruction, signer) = match op {
        Concrete::Swap {
            user: index,
            a_to_b,
            amount_in,
            minimum_amount_out,
        } => {
            let u = user(index);
            let (source, destination, direction) = if a_to_b {
                (u.a, u.b, TradeDirection::AtoB)
            } else {
                (u.b, u.a, TradeDirection::BtoA)
            };
            (
                ix::swap(
                    &setup.keys,
                    &u.key(),
                    &source,
                    &destination,
                    direction,
                    amount_in,
                    minimum_amount_out,
                ),
                u,
            )
        }
        Concrete::Deposit {
            user: index,
            pool_tokens,
            maximum_a,
            maximum_b,
        } => {
            let u = user(index);
            (
                ix::deposit_all(
                    &setup.keys,
                    &u.key(),
                    &u.a,
                    &u.b,
                    &u.lp,
                    pool_tokens,
                    maximum_a,
                    maximum_b,
                ),
                u,
            )
        }
        Concrete::Withdraw {
            user: index,
            pool_tokens,
            minimum_a,
            minimum_b,
        } => {
            let u = user(index);
            (
                ix::withdraw_all(
                    &setup.keys,
                    &u.key(),
                    &u.lp,
                    &u.a,
                    &u.b,
                    pool_tokens,
                    minimum_a,
                    minimum_b,
                ),
                u,
            )
        }
    };
    env.send(&[instruction], &[&signer.keypair])
        .map(|_| ())
        .map_err(|failed| failed.err)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn program_agrees_with_the_model(
        fees in fees(),
        reserve_a in amount(BALANCE_MAX),
        reserve_b in amount(BALANCE_MAX),
        balances in proptest::collection::vec((amount(BALANCE_MAX), amount(BALANCE_MAX)), USERS),
        ops in proptest::collection::vec(op(USERS + 1), 1..10),
    ) {
        let mut env = Env::new();
        // Signatures are not what is under test; skipping them keeps cases cheap.
        env.h.set_sigverify(false);
        let setup = Setup::new(&mut env, reserve_a, reserve_b);
        env.send(&[setup.initialize_ix(fees)], &[]).unwrap();
        let users: Vec<User> = balances.iter().map(|&(a, b)| User::new(&mut env, &setup, a, b)).collect();
        let creator = User {
            keypair: braid_runtime::keypair::Keypair::from_bytes(&setup.creator.to_bytes()).unwrap(),
            a: env.new_token_account(&setup.mint_a, &setup.creator.pubkey(), 0),
            b: env.new_token_account(&setup.mint_b, &setup.creator.pubkey(), 0),
            lp: setup.creator_lp,
        };
        let mut holdings: Vec<Holdings> = balances.iter().map(|&(a, b)| Holdings { a, b, lp: 0 }).collect();
        holdings.push(Holdings { a: 0, b: 0, lp: INITIAL_SWAP_POOL_AMOUNT });
        let mut model = Model { fees, reserve_a, reserve_b, supply: INITIAL_SWAP_POOL_AMOUNT, fee_lp: 0, users: holdings };

        for op in ops {
            let concrete = model.concretize(op);
            let expected = model.apply(concrete).map_err(|error| TransactionError::InstructionError(0, error));
            let actual = send(&mut env, &setup, &users, &creator, concrete);
            prop_assert_eq!(actual, expected, "{:?}", concrete);
            prop_assert_eq!(env.balance(&setup.keys.token_a_vault), model.reserve_a);
            prop_assert_eq!(env.balance(&setup.keys.token_b_vault), model.reserve_b);
            prop_assert_eq!(env.mint(&setup.keys.pool_mint).supply, model.supply);
            prop_assert_eq!(env.balance(&setup.keys.fee_account), model.fee_lp);
            for (user, holding) in users.iter().chain([&creator]).zip(&model.users) {
                prop_assert_eq!(env.balance(&user.a), holding.a);
                prop_assert_eq!(env.balance(&user.b), holding.b);
                prop_assert_eq!(env.balance(&user.lp), holding.lp);
            }
            // Conservation in the ledger itself: each mint's supply is what its accounts hold.
            prop_assert_eq!(u128::from(env.mint(&setup.mint_a).supply), model.total_a());
            prop_assert_eq!(u128::from(env.mint(&setup.mint_b).supply), model.total_b());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Arbitrary instruction data over a real pool's accounts fails cleanly or succeeds; the
    /// program never panics.
    #[test]
    fn arbitrary_instruction_data_never_panics(data in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut env = Env::new();
        env.h.set_sigverify(false);
        let setup = Setup::new(&mut env, 1_000_000, 1_000_000);
        env.send(&[setup.initialize_ix(common::FEES)], &[]).unwrap();
        let user = User::new(&mut env, &setup, 1_000_000, 1_000_000);
        let mut instruction = ix::swap(&setup.keys, &user.key(), &user.a, &user.b, TradeDirection::AtoB, 0, 0);
        instruction.data = data;
        let _ = env.send(&[instruction], &[&user.keypair]);
    }
}
