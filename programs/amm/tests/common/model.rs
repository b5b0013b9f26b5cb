//! A plain model of one pool and its traders: every token the AMM and the token program would
//! move, computed with the crate's curve functions and the token program's balance rules.
//! The property tests run it alone (fast, thousands of cases) and against the harness (the
//! program must agree with it exactly).

use braid_program_amm::Fees;
use braid_program_amm::curve;
use braid_program_token::TokenError;
use braid_runtime::InstructionError;
use proptest::prelude::*;

/// What one account holder owns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holdings {
    pub a: u64,
    pub b: u64,
    pub lp: u64,
}

/// A pool, its LP fee account and its traders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub fees: Fees,
    pub reserve_a: u64,
    pub reserve_b: u64,
    pub supply: u64,
    pub fee_lp: u64,
    pub users: Vec<Holdings>,
}

/// An instruction with its amounts still relative to the state it meets, so a random
/// sequence keeps producing meaningful (often succeeding) instructions.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// Swap `permille` of the user's source balance; `limit` 0: no minimum out, 1: exactly
    /// the expected output, 2: one more than that (must fail).
    Swap {
        user: usize,
        a_to_b: bool,
        permille: u64,
        limit: u8,
    },
    /// Deposit for `ppm` millionths of the LP supply; `limit` 0: the user's balances as
    /// maxima, 1: exact maxima, 2: one less on side A (must fail).
    Deposit { user: usize, ppm: u64, limit: u8 },
    /// Withdraw `permille` of the user's LP tokens; `limit` as for a deposit, with minima.
    Withdraw {
        user: usize,
        permille: u64,
        limit: u8,
    },
}

/// An instruction with concrete arguments, as a client would send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concrete {
    Swap {
        user: usize,
        a_to_b: bool,
        amount_in: u64,
        minimum_amount_out: u64,
    },
    Deposit {
        user: usize,
        pool_tokens: u64,
        maximum_a: u64,
        maximum_b: u64,
    },
    Withdraw {
        user: usize,
        pool_tokens: u64,
        minimum_a: u64,
        minimum_b: u64,
    },
}

fn portion(amount: u64, numerator: u64, denominator: u64) -> u64 {
    u64::try_from(u128::from(amount) * u128::from(numerator) / u128::from(denominator))
        .unwrap_or(u64::MAX)
}

impl Model {
    /// The total of token A held by everyone (the pool included).
    pub fn total_a(&self) -> u128 {
        self.users.iter().map(|u| u128::from(u.a)).sum::<u128>() + u128::from(self.reserve_a)
    }

    /// The total of token B held by everyone (the pool included).
    pub fn total_b(&self) -> u128 {
        self.users.iter().map(|u| u128::from(u.b)).sum::<u128>() + u128::from(self.reserve_b)
    }

    /// The total of LP tokens held by everyone.
    pub fn total_lp(&self) -> u128 {
        self.users.iter().map(|u| u128::from(u.lp)).sum::<u128>() + u128::from(self.fee_lp)
    }

    /// Turns `op` into the arguments a client would send against the current state.
    pub fn concretize(&self, op: Op) -> Concrete {
        match op {
            Op::Swap {
                user,
                a_to_b,
                permille,
                limit,
            } => {
                let holder = self.users[user % self.users.len()];
                let balance = if a_to_b { holder.a } else { holder.b };
                let amount_in = portion(balance, permille, 1_000);
                let (source, destination) = if a_to_b {
                    (self.reserve_a, self.reserve_b)
                } else {
                    (self.reserve_b, self.reserve_a)
                };
                let expected = curve::swap(amount_in, 0, source, destination, &self.fees)
                    .map_or(0, |r| r.amount_out);
                let minimum_amount_out = match limit {
                    0 => 0,
                    1 => expected,
                    _ => expected.saturating_add(1),
                };
                Concrete::Swap {
                    user: user % self.users.len(),
                    a_to_b,
                    amount_in,
                    minimum_amount_out,
                }
            }
            Op::Deposit { user, ppm, limit } => {
                let user = user % self.users.len();
                let holder = self.users[user];
                let pool_tokens = portion(self.supply, ppm, 1_000_000);
                let exact = curve::deposit_all(
                    pool_tokens,
                    u64::MAX,
                    u64::MAX,
                    self.supply,
                    self.reserve_a,
                    self.reserve_b,
                )
                .map_or((0, 0), |d| (d.token_a_amount, d.token_b_amount));
                let (maximum_a, maximum_b) = match limit {
                    0 => (holder.a, holder.b),
                    1 => exact,
                    _ => (exact.0.saturating_sub(1), exact.1),
                };
                Concrete::Deposit {
                    user,
                    pool_tokens,
                    maximum_a,
                    maximum_b,
                }
            }
            Op::Withdraw {
                user,
                permille,
                limit,
            } => {
                let user = user % self.users.len();
                let pool_tokens = portion(self.users[user].lp, permille, 1_000);
                let exact = curve::withdraw_all(
                    pool_tokens,
                    0,
                    0,
                    self.supply,
                    self.reserve_a,
                    self.reserve_b,
                )
                .map_or((0, 0), |w| (w.token_a_amount, w.token_b_amount));
                let (minimum_a, minimum_b) = match limit {
                    0 => (0, 0),
                    1 => exact,
                    _ => (exact.0.saturating_add(1), exact.1),
                };
                Concrete::Withdraw {
                    user,
                    pool_tokens,
                    minimum_a,
                    minimum_b,
                }
            }
        }
    }

    /// Applies an instruction as the program and the token program would: all of it, or
    /// (with the error the transaction would fail with) none of it.
    pub fn apply(&mut self, op: Concrete) -> Result<(), InstructionError> {
        let mut next = self.clone();
        next.apply_in_place(op)?;
        *self = next;
        Ok(())
    }

    fn apply_in_place(&mut self, op: Concrete) -> Result<(), InstructionError> {
        let insufficient = || InstructionError::from(TokenError::InsufficientFunds);
        let add = |to: &mut u64, amount: u64| -> Result<(), InstructionError> {
            *to = to.checked_add(amount).ok_or(TokenError::Overflow)?;
            Ok(())
        };
        match op {
            Concrete::Swap {
                user,
                a_to_b,
                amount_in,
                minimum_amount_out,
            } => {
                let (source, destination) = if a_to_b {
                    (self.reserve_a, self.reserve_b)
                } else {
                    (self.reserve_b, self.reserve_a)
                };
                let result = curve::swap(
                    amount_in,
                    minimum_amount_out,
                    source,
                    destination,
                    &self.fees,
                )?;
                let holder = &mut self.users[user];
                let (paid, received) = if a_to_b {
                    (&mut holder.a, &mut holder.b)
                } else {
                    (&mut holder.b, &mut holder.a)
                };
                *paid = paid
                    .checked_sub(result.amount_in)
                    .ok_or_else(insufficient)?;
                add(received, result.amount_out)?;
                if a_to_b {
                    self.reserve_a = result.new_source_reserve;
                    self.reserve_b = result.new_destination_reserve;
                } else {
                    self.reserve_b = result.new_source_reserve;
                    self.reserve_a = result.new_destination_reserve;
                }
                if result.protocol_fee > 0 {
                    let minted = curve::protocol_fee_pool_tokens(
                        result.protocol_fee,
                        result.new_source_reserve,
                        self.supply,
                    )?;
                    add(&mut self.fee_lp, minted)?;
                    add(&mut self.supply, minted)?;
                }
            }
            Concrete::Deposit {
                user,
                pool_tokens,
                maximum_a,
                maximum_b,
            } => {
                let deposit = curve::deposit_all(
                    pool_tokens,
                    maximum_a,
                    maximum_b,
                    self.supply,
                    self.reserve_a,
                    self.reserve_b,
                )?;
                let holder = &mut self.users[user];
                holder.a = holder
                    .a
                    .checked_sub(deposit.token_a_amount)
                    .ok_or_else(insufficient)?;
                holder.b = holder
                    .b
                    .checked_sub(deposit.token_b_amount)
                    .ok_or_else(insufficient)?;
                add(&mut holder.lp, deposit.pool_tokens)?;
                add(&mut self.reserve_a, deposit.token_a_amount)?;
                add(&mut self.reserve_b, deposit.token_b_amount)?;
                add(&mut self.supply, deposit.pool_tokens)?;
            }
            Concrete::Withdraw {
                user,
                pool_tokens,
                minimum_a,
                minimum_b,
            } => {
                let withdrawal = curve::withdraw_all(
                    pool_tokens,
                    minimum_a,
                    minimum_b,
                    self.supply,
                    self.reserve_a,
                    self.reserve_b,
                )?;
                let holder = &mut self.users[user];
                holder.lp = holder
                    .lp
                    .checked_sub(withdrawal.pool_tokens)
                    .ok_or_else(insufficient)?;
                add(&mut holder.a, withdrawal.token_a_amount)?;
                add(&mut holder.b, withdrawal.token_b_amount)?;
                self.supply -= withdrawal.pool_tokens;
                self.reserve_a -= withdrawal.token_a_amount;
                self.reserve_b -= withdrawal.token_b_amount;
            }
        }
        Ok(())
    }
}

/// `a * b` as a 256-bit number `(high, low)`.
pub fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const MASK: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & MASK);
    let (b1, b0) = (b >> 64, b & MASK);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let middle = (p00 >> 64) + (p01 & MASK) + (p10 & MASK);
    let low = (p00 & MASK) | (middle << 64);
    let high = p11 + (p01 >> 64) + (p10 >> 64) + (middle >> 64);
    (high, low)
}

/// Whether the value of one LP token, `sqrt(a * b) / supply`, did not fall from `before` to
/// `after`: `a' * b' * s^2 >= a * b * s'^2`, compared exactly in 256 bits. A state with no
/// supply has no LP value to compare.
pub fn lp_value_did_not_fall(before: &Model, after: &Model) -> bool {
    if before.supply == 0 || after.supply == 0 {
        return true;
    }
    let k = |m: &Model| u128::from(m.reserve_a) * u128::from(m.reserve_b);
    let s2 = |m: &Model| u128::from(m.supply) * u128::from(m.supply);
    mul_wide(k(after), s2(before)) >= mul_wide(k(before), s2(after))
}

/// Amounts spread over many magnitudes: dust, everyday sizes and near the top of `u64`.
pub fn amount(max: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        1..=1_000u64.min(max),
        1..=1_000_000_000u64.min(max),
        1..=max
    ]
}

/// Fee parameters: none, SPL's defaults, steep, and arbitrary valid fractions.
pub fn fees() -> impl Strategy<Value = Fees> {
    let fraction =
        (1u64..=1_000_000).prop_flat_map(|denominator| (0..=denominator / 3, Just(denominator)));
    prop_oneof![
        Just(Fees::default()),
        Just(Fees {
            trade_fee_numerator: 25,
            trade_fee_denominator: 10_000,
            protocol_fee_numerator: 5,
            protocol_fee_denominator: 10_000,
        }),
        Just(Fees {
            trade_fee_numerator: 1,
            trade_fee_denominator: 10,
            protocol_fee_numerator: 1,
            protocol_fee_denominator: 20,
        }),
        (fraction.clone(), fraction).prop_map(|((t, td), (p, pd))| Fees {
            trade_fee_numerator: t,
            trade_fee_denominator: td,
            protocol_fee_numerator: p,
            protocol_fee_denominator: pd,
        }),
    ]
}

/// A random instruction for one of `users` users.
pub fn op(users: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..users, any::<bool>(), 0u64..=1_100, 0u8..3)
            .prop_map(|(user, a_to_b, permille, limit)| Op::Swap { user, a_to_b, permille, limit }),
        2 => (0..users, 0u64..=2_000_000, 0u8..3).prop_map(|(user, ppm, limit)| Op::Deposit { user, ppm, limit }),
        2 => (0..users, 0u64..=1_100, 0u8..3).prop_map(|(user, permille, limit)| Op::Withdraw { user, permille, limit }),
    ]
}
