//! Fixed-point decimals with 18 places, checked everywhere, with explicit rounding.
//!
//! # Design
//!
//! A [`Decimal`] stores `value × 10^18` in a `u128`: every `u64` token amount fits with
//! 18 fractional digits to spare (`u64::MAX × 10^18 ≈ 1.8 × 10^37 < 2^128 ≈ 3.4 × 10^38`),
//! and values up to about `3.4 × 10^20` whole units are representable, far above any
//! realistic price, market value or compounded rate.
//!
//! The danger in fixed-point arithmetic is the intermediate product: `a × b` of two raw
//! values needs up to 256 bits before it is divided back down. Every multiplication and
//! division therefore goes through one primitive, [`mul_div`], which forms the full 256-bit
//! product from two 128-bit halves and divides it by a 128-bit divisor, so only a *result*
//! that does not fit in 128 bits overflows (and is reported as an error). Nothing needs a
//! wider stored type, and a dependency on a big-integer crate is not worth it for one
//! widening multiply and one long division. When the product fits in 128 bits (the common
//! case) the native division is used; otherwise a 128-step shift-and-subtract division.
//!
//! Rounding is never implicit: every operation that can lose precision comes in a `_floor`
//! and a `_ceil` form, and callers choose the one that favours the protocol (interest and
//! debts round up; collateral, withdrawals and deposit values round down).

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::LendingError;

/// Decimal places of a [`Decimal`].
pub const DECIMAL_PLACES: u32 = 18;
/// `10^18`: the raw value of one whole unit.
pub const WAD: u128 = 1_000_000_000_000_000_000;
/// `10^16`: the raw value of one percent.
const PERCENT_RAW: u128 = 10_000_000_000_000_000;

/// Which way a result that does not divide exactly is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Towards zero (all values are non-negative).
    Floor,
    /// Away from zero.
    Ceil,
}

const LOW_64: u128 = u64::MAX as u128;

/// The full 256-bit product of `a` and `b`, as `(high, low)` 128-bit halves.
fn widening_mul(a: u128, b: u128) -> (u128, u128) {
    let (a_hi, a_lo) = (a.wrapping_shr(64), a & LOW_64);
    let (b_hi, b_lo) = (b.wrapping_shr(64), b & LOW_64);
    // Each partial product of two 64-bit halves fits in 128 bits exactly, and the sums below
    // are bounded by the true 256-bit product, so the wrapping operations never wrap.
    let lo_lo = a_lo.wrapping_mul(b_lo);
    let lo_hi = a_lo.wrapping_mul(b_hi);
    let hi_lo = a_hi.wrapping_mul(b_lo);
    let hi_hi = a_hi.wrapping_mul(b_hi);
    let middle = lo_lo
        .wrapping_shr(64)
        .wrapping_add(lo_hi & LOW_64)
        .wrapping_add(hi_lo & LOW_64);
    let low = (lo_lo & LOW_64) | middle.wrapping_shl(64);
    let high = hi_hi
        .wrapping_add(lo_hi.wrapping_shr(64))
        .wrapping_add(hi_lo.wrapping_shr(64))
        .wrapping_add(middle.wrapping_shr(64));
    (high, low)
}

/// `(high·2^128 + low) / divisor` as `(quotient, remainder)`, or `None` when the divisor is
/// zero or the quotient does not fit in 128 bits.
fn wide_div(high: u128, low: u128, divisor: u128) -> Option<(u128, u128)> {
    if divisor == 0 || high >= divisor {
        return None;
    }
    if high == 0 {
        return Some((low.checked_div(divisor)?, low.checked_rem(divisor)?));
    }
    let mut remainder = high;
    let mut quotient = 0u128;
    for bit in (0..128u32).rev() {
        // Invariant: remainder < divisor. Shifting in one bit gives at most 2·divisor − 1,
        // which may exceed 128 bits; `carry` is that lost top bit.
        let carry = remainder.wrapping_shr(127) == 1;
        remainder = remainder.wrapping_shl(1) | (low.wrapping_shr(bit) & 1);
        quotient = quotient.wrapping_shl(1);
        if carry || remainder >= divisor {
            // With the carry the true value is ≥ 2^128 > divisor and the difference is
            // < divisor, so the wrapped subtraction yields it exactly.
            remainder = remainder.wrapping_sub(divisor);
            quotient |= 1;
        }
    }
    Some((quotient, remainder))
}

/// `a × b / divisor` computed with a 256-bit intermediate and rounded as asked.
pub fn mul_div(a: u128, b: u128, divisor: u128, rounding: Rounding) -> Result<u128, LendingError> {
    let (high, low) = widening_mul(a, b);
    let (quotient, remainder) = wide_div(high, low, divisor).ok_or(LendingError::MathOverflow)?;
    match rounding {
        Rounding::Ceil if remainder != 0 => {
            quotient.checked_add(1).ok_or(LendingError::MathOverflow)
        }
        _ => Ok(quotient),
    }
}

/// A non-negative fixed-point number with [`DECIMAL_PLACES`] decimal places.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Decimal(u128);

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal(0);
    /// One.
    pub const ONE: Decimal = Decimal(WAD);

    /// The decimal whose raw (scaled by `10^18`) value is `raw`.
    pub const fn from_raw(raw: u128) -> Self {
        Decimal(raw)
    }

    /// The raw value: `self × 10^18`.
    pub const fn raw(self) -> u128 {
        self.0
    }

    /// A whole number; every `u64` fits.
    pub const fn from_u64(value: u64) -> Self {
        // u64::MAX × 10^18 < u128::MAX, so this cannot overflow.
        Decimal((value as u128).wrapping_mul(WAD))
    }

    /// `percent / 100`.
    pub const fn from_percent(percent: u8) -> Self {
        Decimal((percent as u128).wrapping_mul(PERCENT_RAW))
    }

    /// `self + rhs`.
    pub fn checked_add(self, rhs: Decimal) -> Result<Decimal, LendingError> {
        self.0
            .checked_add(rhs.0)
            .map(Decimal)
            .ok_or(LendingError::MathOverflow)
    }

    /// `self − rhs`; fails below zero.
    pub fn checked_sub(self, rhs: Decimal) -> Result<Decimal, LendingError> {
        self.0
            .checked_sub(rhs.0)
            .map(Decimal)
            .ok_or(LendingError::MathOverflow)
    }

    /// `self − rhs`, or zero below zero.
    pub fn saturating_sub(self, rhs: Decimal) -> Decimal {
        Decimal(self.0.saturating_sub(rhs.0))
    }

    /// `self × rhs`, rounded as asked.
    pub fn mul(self, rhs: Decimal, rounding: Rounding) -> Result<Decimal, LendingError> {
        mul_div(self.0, rhs.0, WAD, rounding).map(Decimal)
    }

    /// `self × rhs`, rounded down.
    pub fn mul_floor(self, rhs: Decimal) -> Result<Decimal, LendingError> {
        self.mul(rhs, Rounding::Floor)
    }

    /// `self × rhs`, rounded up.
    pub fn mul_ceil(self, rhs: Decimal) -> Result<Decimal, LendingError> {
        self.mul(rhs, Rounding::Ceil)
    }

    /// `self / rhs`, rounded as asked; fails when `rhs` is zero.
    pub fn div(self, rhs: Decimal, rounding: Rounding) -> Result<Decimal, LendingError> {
        mul_div(self.0, WAD, rhs.0, rounding).map(Decimal)
    }

    /// `self / rhs`, rounded down.
    pub fn div_floor(self, rhs: Decimal) -> Result<Decimal, LendingError> {
        self.div(rhs, Rounding::Floor)
    }

    /// `self / rhs`, rounded up.
    pub fn div_ceil(self, rhs: Decimal) -> Result<Decimal, LendingError> {
        self.div(rhs, Rounding::Ceil)
    }

    /// `self × numerator / denominator` with a single rounding at the end, so a ratio of
    /// two large values loses no precision in between.
    pub fn mul_div(
        self,
        numerator: Decimal,
        denominator: Decimal,
        rounding: Rounding,
    ) -> Result<Decimal, LendingError> {
        mul_div(self.0, numerator.0, denominator.0, rounding).map(Decimal)
    }

    /// `self × rhs` for a whole number `rhs`; exact.
    pub fn mul_u64(self, rhs: u64) -> Result<Decimal, LendingError> {
        self.0
            .checked_mul(u128::from(rhs))
            .map(Decimal)
            .ok_or(LendingError::MathOverflow)
    }

    /// `self / rhs` for a whole number `rhs`, rounded as asked.
    pub fn div_u64(self, rhs: u64, rounding: Rounding) -> Result<Decimal, LendingError> {
        mul_div(self.0, 1, u128::from(rhs), rounding).map(Decimal)
    }

    /// `self^exponent` by squaring, each product rounded as asked (so `Ceil` gives an upper
    /// and `Floor` a lower bound of the exact power).
    pub fn pow(self, exponent: u64, rounding: Rounding) -> Result<Decimal, LendingError> {
        let mut result = Decimal::ONE;
        let mut base = self;
        let mut remaining = exponent;
        while remaining > 0 {
            if remaining & 1 == 1 {
                result = result.mul(base, rounding)?;
            }
            remaining = remaining.wrapping_shr(1);
            if remaining > 0 {
                base = base.mul(base, rounding)?;
            }
        }
        Ok(result)
    }

    /// `self^exponent`, rounded up at every step: never below the exact power.
    pub fn pow_ceil(self, exponent: u64) -> Result<Decimal, LendingError> {
        self.pow(exponent, Rounding::Ceil)
    }

    /// The whole part, rounded as asked; fails above `u64::MAX`.
    pub fn to_u64(self, rounding: Rounding) -> Result<u64, LendingError> {
        let whole = mul_div(self.0, 1, WAD, rounding)?;
        u64::try_from(whole).map_err(|_| LendingError::MathOverflow)
    }

    /// The whole part, rounded down.
    pub fn to_u64_floor(self) -> Result<u64, LendingError> {
        self.to_u64(Rounding::Floor)
    }

    /// The whole part, rounded up.
    pub fn to_u64_ceil(self) -> Result<u64, LendingError> {
        self.to_u64(Rounding::Ceil)
    }

    /// Whether the value is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whole = self.0.checked_div(WAD).unwrap_or_default();
        let fraction = self.0.checked_rem(WAD).unwrap_or_default();
        write!(f, "{whole}.{fraction:018}")
    }
}

/// `10^exponent` as a raw integer, for `exponent ≤ 38`.
pub fn pow10(exponent: u32) -> Result<u128, LendingError> {
    10u128
        .checked_pow(exponent)
        .ok_or(LendingError::MathOverflow)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn reference_product(a: u128, b: u128) -> (u128, u128) {
        // Schoolbook over 32-bit limbs: independent of `widening_mul`'s 64-bit split.
        let limbs = |x: u128| {
            [
                x as u32,
                (x >> 32) as u32,
                (x >> 64) as u32,
                (x >> 96) as u32,
            ]
        };
        let (a, b) = (limbs(a), limbs(b));
        let mut out = [0u64; 8];
        for i in 0..4 {
            let mut carry = 0u64;
            for j in 0..4 {
                let t = u64::from(a[i]) * u64::from(b[j]) + out[i + j] + carry;
                out[i + j] = t & 0xffff_ffff;
                carry = t >> 32;
            }
            out[i + 4] += carry;
        }
        let join = |s: &[u64]| {
            s.iter()
                .rev()
                .fold(0u128, |acc, &l| (acc << 32) | u128::from(l))
        };
        (join(&out[4..8]), join(&out[0..4]))
    }

    #[test]
    fn widening_mul_edges() {
        assert_eq!(widening_mul(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
        assert_eq!(widening_mul(0, u128::MAX), (0, 0));
        assert_eq!(widening_mul(1 << 64, 1 << 64), (1, 0));
    }

    #[test]
    fn decimal_basics() {
        let half = Decimal::from_percent(50);
        assert_eq!(
            half.mul_floor(Decimal::from_u64(3)).unwrap(),
            Decimal::from_raw(1_500_000_000_000_000_000)
        );
        let third_floor = Decimal::ONE.div_floor(Decimal::from_u64(3)).unwrap();
        let third_ceil = Decimal::ONE.div_ceil(Decimal::from_u64(3)).unwrap();
        assert_eq!(third_floor.raw(), 333_333_333_333_333_333);
        assert_eq!(third_ceil.raw(), 333_333_333_333_333_334);
        assert_eq!(Decimal::from_raw(WAD + 1).to_u64_floor().unwrap(), 1);
        assert_eq!(Decimal::from_raw(WAD + 1).to_u64_ceil().unwrap(), 2);
        assert_eq!(
            Decimal::ONE.div_floor(Decimal::ZERO),
            Err(LendingError::MathOverflow)
        );
        assert_eq!(
            Decimal::from_raw(u128::MAX).mul_floor(Decimal::from_u64(2)),
            Err(LendingError::MathOverflow)
        );
        assert_eq!(
            Decimal::from_u64(u64::MAX).to_u64_floor().unwrap(),
            u64::MAX
        );
        assert_eq!(
            Decimal::from_u64(u64::MAX)
                .checked_add(Decimal::ONE)
                .unwrap()
                .to_u64_floor(),
            Err(LendingError::MathOverflow)
        );
        assert_eq!(
            Decimal::from_u64(2).pow_ceil(10).unwrap(),
            Decimal::from_u64(1024)
        );
        assert_eq!(Decimal::from_u64(7).pow_ceil(0).unwrap(), Decimal::ONE);
        assert_eq!(
            format!("{}", Decimal::from_percent(5)),
            "0.050000000000000000"
        );
        // A large product still divides back: (10^19 × 10^19) / 10^19 in raw terms.
        let big = Decimal::from_u64(10_000_000_000_000_000_000);
        assert_eq!(big.mul_div(big, big, Rounding::Floor).unwrap(), big);
    }

    #[test]
    fn compounding_matches_repeated_multiplication() {
        // (1 + 10% / slots per year) over 1000 slots. Both lower bounds (repeated multiplication
        // and squaring, rounded down) stay below the squaring rounded up, and all within about
        // one ulp per slot: rounding errors of early squarings are doubled by later ones.
        let rate = Decimal::from_percent(10)
            .div_u64(78_840_000, Rounding::Ceil)
            .unwrap();
        let base = Decimal::ONE.checked_add(rate).unwrap();
        let mut naive = Decimal::ONE;
        for _ in 0..1000 {
            naive = naive.mul_floor(base).unwrap();
        }
        let ceil = base.pow_ceil(1000).unwrap();
        let floor = base.pow(1000, Rounding::Floor).unwrap();
        assert!(floor <= ceil && naive <= ceil);
        assert!(ceil.raw() - floor.raw() < 2_000 && ceil.raw() - naive.raw() < 2_000);
        let exact = ((0.1f64 / 78_840_000.0).ln_1p() * 1000.0).exp();
        assert!((ceil.raw() as f64 / WAD as f64 - exact).abs() < 1e-14);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn widening_mul_matches_reference(a: u128, b: u128) {
            prop_assert_eq!(widening_mul(a, b), reference_product(a, b));
        }

        #[test]
        fn mul_div_is_exact_division(a: u128, b: u128, d in 1u128..) {
            let floor = mul_div(a, b, d, Rounding::Floor);
            let ceil = mul_div(a, b, d, Rounding::Ceil);
            let (high, low) = widening_mul(a, b);
            if high >= d {
                prop_assert_eq!(floor, Err(LendingError::MathOverflow));
            } else {
                let q = floor.unwrap();
                // q·d + r == a·b with r < d, checked in 256 bits.
                let (qd_high, qd_low) = widening_mul(q, d);
                let r = low.wrapping_sub(qd_low);
                let borrow = u128::from(low < qd_low);
                prop_assert_eq!(qd_high + borrow, high);
                prop_assert!(r < d);
                match ceil {
                    Ok(c) => prop_assert_eq!(c, if r == 0 { q } else { q + 1 }),
                    Err(_) => prop_assert!(q == u128::MAX && r != 0),
                }
            }
        }

        #[test]
        fn floor_never_exceeds_ceil(a in 0u128..(1u128 << 90), b in (1u128 << 50)..(1u128 << 90)) {
            let (a, b) = (Decimal::from_raw(a), Decimal::from_raw(b));
            let (f, c) = (a.mul_floor(b).unwrap(), a.mul_ceil(b).unwrap());
            prop_assert!(f <= c && c.raw() - f.raw() <= 1);
            if !b.is_zero() {
                let (f, c) = (a.div_floor(b).unwrap(), a.div_ceil(b).unwrap());
                prop_assert!(f <= c && c.raw() - f.raw() <= 1);
            }
        }

        #[test]
        fn pow_ceil_bounds_the_exact_power(rate in 0u128..1_000_000_000_000, n in 0u64..2_000_000) {
            let base = Decimal::ONE.checked_add(Decimal::from_raw(rate)).unwrap();
            let ceil = base.pow_ceil(n).unwrap();
            let floor = base.pow(n, Rounding::Floor).unwrap();
            prop_assert!(ceil >= Decimal::ONE);
            prop_assert!(floor <= ceil);
            let exact = (1.0f64 + rate as f64 / WAD as f64).powf(n as f64);
            prop_assert!((ceil.raw() as f64 / WAD as f64 - exact).abs() <= exact * 1e-9);
        }
    }
}
