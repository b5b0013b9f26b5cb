//! Property tests of the pure math and of the pool's state transitions (the model in
//! `common/model.rs`, built on the crate's curve functions), thousands of cases each:
//!
//! - the reserves' product never decreases across a swap;
//! - the value of one LP token, `sqrt(a * b) / supply`, never decreases across any sequence
//!   of swaps, deposits and withdrawals (protocol-fee mints included);
//! - tokens are conserved: every A and B token is held by a trader or the pool, and the LP
//!   supply is exactly what the holders hold;
//! - a deposit followed by a withdrawal of the same LP tokens never pays back more of
//!   either token than was paid in.
//!
//! `harness_model.rs` checks that the program, run in the harness, agrees with the model.

#![allow(clippy::arithmetic_side_effects)] // test arithmetic on amounts bounded by u64 in u128

mod common;

use braid_program_amm::curve::{self, INITIAL_SWAP_POOL_AMOUNT};
use common::model::{
    Concrete, Holdings, Model, Op, amount, fees, lp_value_did_not_fall, mul_wide, op,
};
use proptest::prelude::*;

const CASES: u32 = 2_000;
const USERS: usize = 3;
/// The most any trader starts with, so no vault can pass `u64::MAX` in a sequence.
const BALANCE_MAX: u64 = 1 << 60;

#[test]
fn mul_wide_is_exact() {
    assert_eq!(mul_wide(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
    assert_eq!(mul_wide(1 << 64, 1 << 64), (1, 0));
    assert_eq!(
        mul_wide(u128::from(u64::MAX), 3),
        (0, u128::from(u64::MAX) * 3)
    );
}

fn model() -> impl Strategy<Value = Model> {
    (
        fees(),
        amount(BALANCE_MAX),
        amount(BALANCE_MAX),
        proptest::collection::vec((amount(BALANCE_MAX), amount(BALANCE_MAX)), USERS),
    )
        .prop_map(|(fees, reserve_a, reserve_b, balances)| {
            let mut users: Vec<Holdings> = balances
                .into_iter()
                .map(|(a, b)| Holdings { a, b, lp: 0 })
                .collect();
            // The creator, whose LP tokens are the initial supply.
            users.push(Holdings {
                a: 0,
                b: 0,
                lp: INITIAL_SWAP_POOL_AMOUNT,
            });
            Model {
                fees,
                reserve_a,
                reserve_b,
                supply: INITIAL_SWAP_POOL_AMOUNT,
                fee_lp: 0,
                users,
            }
        })
}

/// Applies `ops` from `start`, checking that a failed instruction changes nothing and
/// calling `check(before, after, op)` after each one that succeeds.
fn run(
    start: Model,
    ops: Vec<Op>,
    check: impl Fn(&Model, &Model, Concrete) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let mut state = start;
    for op in ops {
        let before = state.clone();
        let concrete = state.concretize(op);
        if state.apply(concrete).is_err() {
            prop_assert_eq!(&state, &before, "a failed instruction changes nothing");
            continue;
        }
        check(&before, &state, concrete)?;
    }
    Ok(())
}

proptest! {
    // Inputs the curve refuses (overflow, zero output) are rejected cases, not passes;
    // the budget of rejects is generous so that only a generator that rarely yields a valid
    // case fails the run.
    #![proptest_config(ProptestConfig {
        cases: CASES,
        max_global_rejects: CASES * 8,
        ..ProptestConfig::default()
    })]

    #[test]
    fn swap_never_decreases_the_product(
        amount_in in amount(u64::MAX),
        source in amount(u64::MAX),
        destination in amount(u64::MAX),
        minimum_out in prop_oneof![Just(0u64), amount(u64::MAX)],
        fees in fees(),
    ) {
        let result = curve::swap(amount_in, minimum_out, source, destination, &fees);
        prop_assume!(result.is_ok());
        let result = result.unwrap();
        let before = u128::from(source) * u128::from(destination);
        let after = u128::from(result.new_source_reserve) * u128::from(result.new_destination_reserve);
        prop_assert!(after >= before, "{before} -> {after}");
        prop_assert!(result.amount_in <= amount_in);
        prop_assert!(result.amount_out >= minimum_out.max(1));
        prop_assert!(result.amount_out < destination);
        prop_assert_eq!(result.new_source_reserve, source + result.amount_in);
        prop_assert_eq!(result.new_destination_reserve, destination - result.amount_out);
        // The curve alone keeps the product too, before any fee is added on top.
        let less_fees = amount_in - result.trade_fee - result.protocol_fee;
        let bare = curve::swap_without_fees(u128::from(less_fees), u128::from(source), u128::from(destination)).unwrap();
        prop_assert!(
            (u128::from(source) + bare.source_amount_swapped)
                * (u128::from(destination) - bare.destination_amount_swapped) >= before
        );
        prop_assert!(bare.source_amount_swapped <= u128::from(less_fees));
    }

    #[test]
    fn lp_value_never_decreases(start in model(), ops in proptest::collection::vec(op(USERS + 1), 1..30)) {
        run(start, ops, |before, after, _| {
            prop_assert!(lp_value_did_not_fall(before, after), "{:?} -> {:?}", before, after);
            Ok(())
        })?;
    }

    #[test]
    fn tokens_are_conserved(start in model(), ops in proptest::collection::vec(op(USERS + 1), 1..30)) {
        let (total_a, total_b) = (start.total_a(), start.total_b());
        run(start, ops, |_, after, _| {
            prop_assert_eq!(after.total_a(), total_a);
            prop_assert_eq!(after.total_b(), total_b);
            prop_assert_eq!(after.total_lp(), u128::from(after.supply));
            Ok(())
        })?;
    }

    #[test]
    fn swaps_in_sequence_never_decrease_the_product(
        start in model(),
        ops in proptest::collection::vec(op(USERS + 1), 1..30),
    ) {
        run(start, ops, |before, after, op| {
            if let Concrete::Swap { .. } = op {
                let k = |m: &Model| u128::from(m.reserve_a) * u128::from(m.reserve_b);
                prop_assert!(k(after) >= k(before));
            }
            Ok(())
        })?;
    }

    #[test]
    fn deposit_then_withdraw_never_profits(
        reserve_a in amount(BALANCE_MAX),
        reserve_b in amount(BALANCE_MAX),
        supply in amount(BALANCE_MAX),
        pool_tokens in amount(BALANCE_MAX),
    ) {
        let deposit = curve::deposit_all(pool_tokens, u64::MAX, u64::MAX, supply, reserve_a, reserve_b);
        prop_assume!(deposit.is_ok());
        let deposit = deposit.unwrap();
        // A deposit that would overflow a vault or the LP supply is refused by the token program.
        let grown = (
            reserve_a.checked_add(deposit.token_a_amount),
            reserve_b.checked_add(deposit.token_b_amount),
            supply.checked_add(deposit.pool_tokens),
        );
        prop_assume!(matches!(grown, (Some(_), Some(_), Some(_))));
        let (Some(reserve_a), Some(reserve_b), Some(supply)) = grown else {
            unreachable!("assumed above");
        };
        let withdrawal = curve::withdraw_all(deposit.pool_tokens, 0, 0, supply, reserve_a, reserve_b);
        // A deposit large enough to pay at least one token of each side can always be
        // withdrawn for at least one token of each side.
        let withdrawal = withdrawal.unwrap();
        prop_assert!(withdrawal.token_a_amount <= deposit.token_a_amount);
        prop_assert!(withdrawal.token_b_amount <= deposit.token_b_amount);
    }
}
