//! End to end: underwriters fund a pool, users buy cover, the price falls, claims pay exactly
//! the coverage, an unreachable policy expires and releases its capital, and the
//! underwriters leave with exactly what the share math says.

mod common;

use braid_program_insurance::{self as insurance, InsuranceError, PolicyRequest, PolicyStatus};
use braid_runtime::{InstructionError, TransactionError};
use common::{Env, PARAMS, User};

#[test]
fn underwrite_buy_crash_claim_expire_withdraw() {
    // Price 2.000000; 2.5% premium, 150% collateral, 10-slot oracle age, 20-slot grace.
    let mut env = Env::new(PARAMS, 2_000_000);
    let a = env.underwriter(60_000);
    let b = env.underwriter(30_000);
    for (who, amount) in [(&a, 60_000), (&b, 30_000)] {
        env.send_as(
            &who.key,
            insurance::deposit(&env.keys, &who.tokens, &who.pubkey(), amount),
        )
        .unwrap();
    }
    assert_eq!(env.vault_balance(), 90_000);

    // Slot 5: four policies. (coverage, strike, expiry) → premium, locked:
    //   u1 10_000 @ 1.5 until 100 → 250, 15_000
    //   u2 20_000 @ 1.5 until 100 → 500, 30_000
    //   u3  8_000 @ 1.0 until 100 → 200, 12_000
    //   u4  4_001 @ 1.5 until  60 → ceil(100.025) = 101, ceil(6_001.5) = 6_002
    env.h.warp_to_slot(5);
    let users: Vec<User> = (0..4).map(|_| env.user(1_000)).collect();
    let terms = [
        (10_000, 1_500_000, 100),
        (20_000, 1_500_000, 100),
        (8_000, 1_000_000, 100),
        (4_001, 1_500_000, 60),
    ];
    for (user, (coverage, strike_price, expiry_slot)) in users.iter().zip(terms) {
        let request = PolicyRequest {
            policy_id: 0,
            coverage,
            strike_price,
            expiry_slot,
        };
        env.send_as(
            &user.key,
            insurance::buy_policy(&env.keys, &user.tokens, &user.pubkey(), request),
        )
        .unwrap();
    }
    let pool = env.pool();
    assert_eq!(
        (
            pool.total_capital,
            pool.locked_capital,
            pool.active_coverage
        ),
        (91_051, 63_002, 42_001)
    );
    assert_eq!(env.vault_balance(), 91_051);

    // Unlocked capital is 28_049: 20_000 of cover would lock 30_000.
    let greedy = env.user(1_000);
    let request = PolicyRequest {
        policy_id: 0,
        coverage: 20_000,
        strike_price: 1_500_000,
        expiry_slot: 100,
    };
    env.expect_error(
        &greedy.key,
        insurance::buy_policy(&env.keys, &greedy.tokens, &greedy.pubkey(), request),
        InsuranceError::InsufficientCapacity,
    );

    // A late underwriter buys in after the premiums: 10_000 × 90_000 / 91_051 = 9_884.57 → 9_884.
    let c = env.underwriter(10_000);
    env.send_as(
        &c.key,
        insurance::deposit(&env.keys, &c.tokens, &c.pubkey(), 10_000),
    )
    .unwrap();
    assert_eq!(env.position(&c.pubkey()).shares, 9_884);

    // Slot 50: the price falls to 1.4. u1 and u2 claim; u3's strike (1.0) is not reached.
    env.h.warp_to_slot(50);
    env.set_price(1_400_000);
    for user in &users[..2] {
        env.send_as(
            &user.key,
            insurance::claim(&env.keys, &user.pubkey(), 0, &user.tokens),
        )
        .unwrap();
    }
    env.expect_error(
        &users[2].key,
        insurance::claim(&env.keys, &users[2].pubkey(), 0, &users[2].tokens),
        InsuranceError::StrikeNotReached,
    );

    // Slot 75: u4's policy expired at 60, but the slot-50 price was fresh at expiry and the
    // grace period runs to 80, so it still pays. The oracle has not updated since.
    env.h.warp_to_slot(75);
    env.send_as(
        &users[3].key,
        insurance::claim(&env.keys, &users[3].pubkey(), 0, &users[3].tokens),
    )
    .unwrap();

    // Claims paid exactly the coverage.
    let balances: Vec<u64> = users.iter().map(|u| env.balance(&u.tokens)).collect();
    assert_eq!(
        balances,
        [
            1_000 - 250 + 10_000,
            1_000 - 500 + 20_000,
            1_000 - 200,
            1_000 - 101 + 4_001
        ]
    );
    let pool = env.pool();
    assert_eq!(
        (
            pool.total_capital,
            pool.locked_capital,
            pool.active_coverage
        ),
        (67_050, 12_000, 8_000)
    );
    assert_eq!(env.vault_balance(), 67_050);

    // Slot 121 (past 100 + 20): anyone expires u3's policy, releasing its 12_000.
    env.h.warp_to_slot(121);
    let (u3_policy, _) = insurance::policy_address(&env.keys.pool, &users[2].pubkey(), 0);
    env.send_as(&greedy.key, insurance::expire(&env.keys.pool, &u3_policy))
        .unwrap();
    assert_eq!(
        env.policy(&users[2].pubkey(), 0).status,
        PolicyStatus::Expired
    );
    assert_eq!(
        env.policy(&users[0].pubkey(), 0).status,
        PolicyStatus::Claimed
    );
    assert_eq!(env.pool().locked_capital, 0);
    let late = env.send_as(
        &users[2].key,
        insurance::claim(&env.keys, &users[2].pubkey(), 0, &users[2].tokens),
    );
    assert_eq!(
        late,
        Err(TransactionError::InstructionError(
            0,
            InstructionError::Custom(InsuranceError::PolicyNotActive as u32)
        ))
    );

    // Everyone leaves. Capital 67_050 over 99_884 shares:
    //   a: 60_000 × 67_050 / 99_884 = 40_276.72 → 40_276
    //   b: 30_000 × 26_774 / 39_884 = 20_138.90 → 20_138
    //   c: the rest, 6_636 for all 9_884 remaining shares.
    for (who, shares, paid) in [
        (&a, 60_000, 40_276),
        (&b, 30_000, 20_138),
        (&c, 9_884, 6_636),
    ] {
        env.send_as(
            &who.key,
            insurance::withdraw(&env.keys, &who.tokens, &who.pubkey(), shares),
        )
        .unwrap();
        assert_eq!(env.balance(&who.tokens), paid);
        assert_eq!(env.position(&who.pubkey()).shares, 0);
    }
    let pool = env.pool();
    assert_eq!(
        (pool.total_capital, pool.total_shares, pool.locked_capital),
        (0, 0, 0)
    );
    assert_eq!(env.vault_balance(), 0);

    // Conservation: deposits 100_000 + premiums 1_051 = payouts 34_001 + withdrawals 67_050.
    assert_eq!(100_000 + 1_051, 34_001 + 40_276 + 20_138 + 6_636);
}
