//! The pool's properties through the real programs: random instruction sequences sent to the
//! harness, with every balance read back from the token accounts. Fewer cases than the pure
//! properties in `properties.rs` (each case is a few dozen signed transactions).

// Flows are summed in u128 and balances compared with plain operators: overflow there would
// be a test bug.
#![allow(clippy::arithmetic_side_effects)]

mod common;

use braid_program_insurance::logic::BPS_DENOMINATOR;
use braid_program_insurance::{self as insurance, PolicyRequest};
use common::{Env, PARAMS, User};
use proptest::prelude::*;

const CASES: u32 = 256;
const PEOPLE: usize = 2;
const START_TOKENS: u64 = 1_000_000;
const SEED_CAPITAL: u64 = 100_000;

#[derive(Debug, Clone)]
enum Op {
    Deposit {
        who: usize,
        amount: u64,
    },
    Withdraw {
        who: usize,
        bps: u64,
    },
    Buy {
        who: usize,
        coverage: u64,
        strike: i64,
        duration: u64,
    },
    SetPrice {
        price: i64,
    },
    Advance {
        slots: u64,
    },
    Claim {
        index: usize,
    },
    Expire {
        index: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..PEOPLE, 1..60_000u64).prop_map(|(who, amount)| Op::Deposit { who, amount }),
        2 => (0..PEOPLE, 1..=BPS_DENOMINATOR).prop_map(|(who, bps)| Op::Withdraw { who, bps }),
        3 => (0..PEOPLE, 1..30_000u64, 900_000..1_200_000i64, 1..40u64)
            .prop_map(|(who, coverage, strike, duration)| Op::Buy { who, coverage, strike, duration }),
        2 => (800_000..1_300_000i64).prop_map(|price| Op::SetPrice { price }),
        2 => (0..15u64).prop_map(|slots| Op::Advance { slots }),
        3 => any::<prop::sample::Index>().prop_map(|i| Op::Claim { index: i.index(usize::MAX) }),
        2 => any::<prop::sample::Index>().prop_map(|i| Op::Expire { index: i.index(usize::MAX) }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// After every transaction, successful or not: locked ≤ capital ≤ vault balance; active
    /// coverage × ratio ≤ capital; a claim pays exactly the coverage into the holder's
    /// account; and the vault's balance change is deposits + premiums − withdrawals −
    /// payouts, each measured on the users' token accounts.
    #[test]
    fn pool_properties_hold_on_chain(ops in prop::collection::vec(op(), 1..30)) {
        let mut env = Env::new(PARAMS, 1_250_000);
        let underwriters: Vec<User> = (0..PEOPLE).map(|_| env.underwriter(START_TOKENS)).collect();
        let buyers: Vec<User> = (0..PEOPLE).map(|_| env.user(START_TOKENS)).collect();
        // Seed capital so that early purchases can succeed; the flows count from here.
        for u in &underwriters {
            env.send_as(&u.key, insurance::deposit(&env.keys, &u.tokens, &u.pubkey(), SEED_CAPITAL)).unwrap();
        }
        let mut policies: Vec<(usize, u64, u64)> = Vec::new(); // (buyer, policy id, coverage)
        let mut next_id = [0u64; PEOPLE];
        let (mut deposits, mut premiums, mut withdrawals, mut payouts) = (0u128, 0u128, 0u128, 0u128);
        let vault0 = env.vault_balance();

        for op in &ops {
            match *op {
                Op::Deposit { who, amount } => {
                    let u = &underwriters[who];
                    let before = env.balance(&u.tokens);
                    if env.send_as(&u.key, insurance::deposit(&env.keys, &u.tokens, &u.pubkey(), amount)).is_ok() {
                        prop_assert_eq!(before - env.balance(&u.tokens), amount);
                        deposits += u128::from(amount);
                    }
                }
                Op::Withdraw { who, bps } => {
                    let u = &underwriters[who];
                    let shares = env.position(&u.pubkey()).shares * bps / BPS_DENOMINATOR;
                    let before = env.balance(&u.tokens);
                    if env.send_as(&u.key, insurance::withdraw(&env.keys, &u.tokens, &u.pubkey(), shares)).is_ok() {
                        withdrawals += u128::from(env.balance(&u.tokens) - before);
                    }
                }
                Op::Buy { who, coverage, strike, duration } => {
                    let b = &buyers[who];
                    let request = PolicyRequest {
                        policy_id: next_id[who],
                        coverage,
                        strike_price: strike,
                        expiry_slot: env.h.slot() + duration,
                    };
                    let before = env.balance(&b.tokens);
                    if env.send_as(&b.key, insurance::buy_policy(&env.keys, &b.tokens, &b.pubkey(), request)).is_ok() {
                        let premium = before - env.balance(&b.tokens);
                        prop_assert_eq!(premium, env.policy(&b.pubkey(), next_id[who]).premium);
                        premiums += u128::from(premium);
                        policies.push((who, next_id[who], coverage));
                        next_id[who] += 1;
                    }
                }
                Op::SetPrice { price } => env.set_price(price),
                Op::Advance { slots } => {
                    let slot = env.h.slot() + slots;
                    env.h.warp_to_slot(slot);
                }
                Op::Claim { index } if !policies.is_empty() => {
                    let (who, id, coverage) = policies[index % policies.len()];
                    let b = &buyers[who];
                    let before = env.balance(&b.tokens);
                    if env.send_as(&b.key, insurance::claim(&env.keys, &b.pubkey(), id, &b.tokens)).is_ok() {
                        let paid = env.balance(&b.tokens) - before;
                        prop_assert!(paid <= coverage);
                        prop_assert_eq!(paid, coverage);
                        payouts += u128::from(paid);
                    }
                }
                Op::Expire { index } if !policies.is_empty() => {
                    let (who, id, _) = policies[index % policies.len()];
                    let (policy, _) = insurance::policy_address(&env.keys.pool, &buyers[who].pubkey(), id);
                    let _ = env.send_as(&buyers[who].key, insurance::expire(&env.keys.pool, &policy));
                }
                Op::Claim { .. } | Op::Expire { .. } => {}
            }

            let pool = env.pool();
            let vault = env.vault_balance();
            prop_assert!(pool.locked_capital <= pool.total_capital);
            prop_assert!(pool.total_capital <= vault);
            prop_assert!(
                u128::from(pool.active_coverage) * u128::from(pool.collateral_ratio_bps)
                    <= u128::from(pool.total_capital) * u128::from(BPS_DENOMINATOR)
            );
            // vault − vault0 = deposits + premiums − withdrawals − payouts, kept unsigned.
            prop_assert_eq!(
                u128::from(vault) + withdrawals + payouts,
                u128::from(vault0) + deposits + premiums
            );
            let seed = u128::from(SEED_CAPITAL) * PEOPLE as u128;
            prop_assert_eq!(
                u128::from(pool.total_capital) + withdrawals + payouts,
                seed + deposits + premiums
            );
        }
    }
}
