//! Properties of the pool's accounting, over random instruction sequences applied to the pure
//! state transitions (`logic`), 1000 sequences per property. `harness_properties.rs` checks
//! the same properties, fewer times, through the real programs.

// The model sums flows in u128 with plain operators: overflow there would be a test bug.
#![allow(clippy::arithmetic_side_effects)]

use braid_program_insurance::logic::{self, BPS_DENOMINATOR, PolicyRequest};
use braid_program_insurance::state::AccountKind;
use braid_program_insurance::{Policy, PolicyStatus, Pool, Position};
use braid_program_oracle::Price;
use proptest::prelude::*;

const UNDERWRITERS: usize = 3;
const CASES: u32 = 1000;

#[derive(Debug, Clone)]
enum Op {
    Deposit {
        who: usize,
        amount: u64,
    },
    /// Burn `bps` of the position's shares.
    Withdraw {
        who: usize,
        bps: u64,
    },
    Buy {
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
    /// Tokens sent straight to the vault: not capital.
    Donate {
        amount: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..UNDERWRITERS, 1..1_000_000u64).prop_map(|(who, amount)| Op::Deposit { who, amount }),
        2 => (0..UNDERWRITERS, 1..=BPS_DENOMINATOR).prop_map(|(who, bps)| Op::Withdraw { who, bps }),
        3 => (1..400_000u64, 900..1_200i64, 1..60u64)
            .prop_map(|(coverage, strike, duration)| Op::Buy { coverage, strike, duration }),
        2 => (800..1_300i64).prop_map(|price| Op::SetPrice { price }),
        3 => (0..20u64).prop_map(|slots| Op::Advance { slots }),
        3 => any::<prop::sample::Index>().prop_map(|i| Op::Claim { index: i.index(usize::MAX) }),
        2 => any::<prop::sample::Index>().prop_map(|i| Op::Expire { index: i.index(usize::MAX) }),
        1 => (1..1_000u64).prop_map(|amount| Op::Donate { amount }),
    ]
}

fn params() -> impl Strategy<Value = (u64, u64, u64, u64)> {
    (
        1..=BPS_DENOMINATOR,
        BPS_DENOMINATOR..=30_000u64,
        0..15u64,
        0..30u64,
    )
}

/// What one op did, for properties about a single step.
#[derive(Debug, Default)]
struct Step {
    payout: Option<(u64, u64)>, // (paid, coverage)
}

struct Model {
    pool: Pool,
    positions: Vec<Position>,
    policies: Vec<Policy>,
    price: Price,
    now: u64,
    vault: u64,
    deposits: u128,
    premiums: u128,
    withdrawals: u128,
    payouts: u128,
    donations: u128,
}

impl Model {
    fn new(
        (premium_rate_bps, collateral_ratio_bps, max_oracle_age_slots, claim_grace_slots): (
            u64,
            u64,
            u64,
            u64,
        ),
    ) -> Self {
        Self {
            pool: Pool {
                kind: AccountKind::Pool,
                premium_rate_bps,
                collateral_ratio_bps,
                max_oracle_age_slots,
                claim_grace_slots,
                ..Pool::default()
            },
            positions: vec![Position::default(); UNDERWRITERS],
            policies: Vec::new(),
            price: Price {
                price: 1_250,
                confidence: 0,
                exponent: 0,
                slot: 0,
            },
            now: 0,
            vault: 0,
            deposits: 0,
            premiums: 0,
            withdrawals: 0,
            payouts: 0,
            donations: 0,
        }
    }

    /// Applies `op`; a failed transition must leave everything as it was.
    fn apply(&mut self, op: &Op) -> Step {
        let mut step = Step::default();
        let (pool_before, policies_before, positions_before) = (
            self.pool.clone(),
            self.policies.clone(),
            self.positions.clone(),
        );
        let ok = match *op {
            Op::Deposit { who, amount } => {
                logic::deposit(&mut self.pool, &mut self.positions[who], amount)
                    .map(|_| {
                        self.vault += amount;
                        self.deposits += u128::from(amount);
                    })
                    .is_ok()
            }
            Op::Withdraw { who, bps } => {
                let shares =
                    (u128::from(self.positions[who].shares) * u128::from(bps) / 10_000) as u64;
                logic::withdraw(&mut self.pool, &mut self.positions[who], shares)
                    .map(|amount| {
                        self.vault -= amount;
                        self.withdrawals += u128::from(amount);
                    })
                    .is_ok()
            }
            Op::Buy {
                coverage,
                strike,
                duration,
            } => {
                let request = PolicyRequest {
                    policy_id: 0,
                    coverage,
                    strike_price: strike,
                    expiry_slot: self.now + duration,
                };
                let fresh = self.now - self.price.slot <= self.pool.max_oracle_age_slots;
                fresh
                    && logic::buy_policy(&mut self.pool, &request, self.price.price, self.now)
                        .map(|quote| {
                            self.vault += quote.premium;
                            self.premiums += u128::from(quote.premium);
                            self.policies.push(Policy {
                                coverage,
                                locked: quote.locked,
                                premium: quote.premium,
                                strike_price: strike,
                                expiry_slot: request.expiry_slot,
                                ..Policy::default()
                            });
                        })
                        .is_ok()
            }
            Op::SetPrice { price } => {
                self.price = Price {
                    price,
                    confidence: 0,
                    exponent: 0,
                    slot: self.now,
                };
                true
            }
            Op::Advance { slots } => {
                self.now += slots;
                true
            }
            Op::Claim { index } if !self.policies.is_empty() => {
                let i = index % self.policies.len();
                let coverage = self.policies[i].coverage;
                logic::claim(&mut self.pool, &mut self.policies[i], &self.price, self.now)
                    .map(|paid| {
                        self.vault -= paid;
                        self.payouts += u128::from(paid);
                        step.payout = Some((paid, coverage));
                    })
                    .is_ok()
            }
            Op::Expire { index } if !self.policies.is_empty() => {
                let i = index % self.policies.len();
                logic::expire(&mut self.pool, &mut self.policies[i], self.now).is_ok()
            }
            Op::Donate { amount } => {
                self.vault += amount;
                self.donations += u128::from(amount);
                true
            }
            Op::Claim { .. } | Op::Expire { .. } => false,
        };
        if !ok {
            assert_eq!(self.pool, pool_before, "a failed {op:?} changed the pool");
            assert_eq!(
                self.policies, policies_before,
                "a failed {op:?} changed a policy"
            );
            assert_eq!(
                self.positions, positions_before,
                "a failed {op:?} changed a position"
            );
        }
        step
    }

    fn active(&self) -> impl Iterator<Item = &Policy> {
        self.policies
            .iter()
            .filter(|p| p.status == PolicyStatus::Active)
    }
}

/// Runs `ops` from a fresh pool, calling `check` after every step.
fn run(params: (u64, u64, u64, u64), ops: &[Op], mut check: impl FnMut(&Model, &Step)) {
    let mut model = Model::new(params);
    for op in ops {
        let step = model.apply(op);
        check(&model, &step);
    }
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// locked ≤ capital ≤ vault balance, and the locked capital is exactly what the active
    /// policies locked.
    #[test]
    fn locked_le_capital_le_vault(params in params(), ops in ops()) {
        run(params, &ops, |m, _| {
            assert!(m.pool.locked_capital <= m.pool.total_capital, "locked > capital");
            assert!(m.pool.total_capital <= m.vault, "capital > vault");
            assert_eq!(m.pool.locked_capital, m.active().map(|p| p.locked).sum::<u64>());
        });
    }

    /// Total active coverage × collateral ratio ≤ capital.
    #[test]
    fn active_coverage_is_collateralised(params in params(), ops in ops()) {
        run(params, &ops, |m, _| {
            let coverage: u64 = m.active().map(|p| p.coverage).sum();
            assert_eq!(coverage, m.pool.active_coverage);
            let required = u128::from(coverage) * u128::from(m.pool.collateral_ratio_bps);
            assert!(required <= u128::from(m.pool.total_capital) * u128::from(BPS_DENOMINATOR));
        });
    }

    /// A claim pays at most its coverage (exactly it), and a policy pays at most once.
    #[test]
    fn payout_le_coverage(params in params(), ops in ops()) {
        run(params, &ops, |m, step| {
            if let Some((paid, coverage)) = step.payout {
                assert!(paid <= coverage);
                assert_eq!(paid, coverage);
            }
            let claimed: u128 = m.policies.iter().filter(|p| p.status == PolicyStatus::Claimed).map(|p| u128::from(p.coverage)).sum();
            assert_eq!(claimed, m.payouts, "some policy paid twice or paid without being marked");
        });
    }

    /// Vault balance change = deposits + premiums − withdrawals − payouts (plus donations,
    /// which are not capital), and capital is that flow exactly.
    #[test]
    fn vault_change_is_the_flows(params in params(), ops in ops()) {
        run(params, &ops, |m, _| {
            let flows = m.deposits + m.premiums - m.withdrawals - m.payouts;
            assert_eq!(u128::from(m.vault), flows + m.donations);
            assert_eq!(u128::from(m.pool.total_capital), flows);
            let shares: u64 = m.positions.iter().map(|p| p.shares).sum();
            assert_eq!(shares, m.pool.total_shares);
        });
    }

    /// Depositing and at once withdrawing every new share never returns more than was paid.
    #[test]
    fn deposit_then_withdraw_never_profits(params in params(), ops in ops(), amount in 1..10_000_000u64) {
        let mut model = Model::new(params);
        for op in &ops {
            model.apply(op);
        }
        let mut newcomer = Position::default();
        if let Ok(shares) = logic::deposit(&mut model.pool, &mut newcomer, amount)
            && let Ok(back) = logic::withdraw(&mut model.pool, &mut newcomer, shares)
        {
            prop_assert!(back <= amount, "paid {amount}, got back {back}");
        }
    }
}

/// The generator reaches the interesting transitions often enough for the properties above
/// to mean something: successful claims, expiries, withdrawals and purchases.
#[test]
fn generator_exercises_every_transition() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (params(), ops());
    let (mut claims, mut expiries, mut withdrawals, mut buys) = (0, 0, 0, 0);
    for _ in 0..200 {
        let (params, ops) = strategy.new_tree(&mut runner).unwrap().current();
        let mut model = Model::new(params);
        for op in &ops {
            let before = (
                model.payouts,
                model.withdrawals,
                model.premiums,
                model.pool.locked_capital,
            );
            model.apply(op);
            match op {
                Op::Claim { .. } if model.payouts > before.0 => claims += 1,
                Op::Withdraw { .. } if model.withdrawals > before.1 => withdrawals += 1,
                Op::Buy { .. } if model.premiums > before.2 => buys += 1,
                Op::Expire { .. } if model.pool.locked_capital < before.3 => expiries += 1,
                _ => {}
            }
        }
    }
    assert!(
        claims >= 20 && expiries >= 20 && withdrawals >= 20 && buys >= 100,
        "{claims} {expiries} {withdrawals} {buys}"
    );
}
