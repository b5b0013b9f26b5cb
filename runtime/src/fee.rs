//! Transaction fees: a base fee per signature plus the priority fee the compute budget asks for.

use crate::compute_budget::ComputeBudget;

/// Base fee per signature, in lamports (Solana's).
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
/// Micro-lamports in a lamport: compute-unit prices are quoted in micro-lamports.
pub const MICRO_LAMPORTS_PER_LAMPORT: u128 = 1_000_000;

/// The parts of a transaction's fee.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeeDetails {
    /// `LAMPORTS_PER_SIGNATURE` per signature.
    pub signature_fee: u64,
    /// `ceil(compute_unit_limit × compute_unit_price / 10⁶)`.
    pub prioritization_fee: u64,
}

impl FeeDetails {
    /// Prices a transaction with `num_signatures` signatures and `budget`. Each part
    /// saturates at `u64::MAX`, which no payer can afford, so an absurd price is rejected
    /// as unaffordable rather than wrapping to a small fee.
    pub fn new(num_signatures: u64, budget: &ComputeBudget) -> Self {
        let signature_fee = num_signatures.saturating_mul(LAMPORTS_PER_SIGNATURE);
        let micro_lamports = u128::from(budget.compute_unit_limit)
            .saturating_mul(u128::from(budget.compute_unit_price));
        let lamports = micro_lamports.div_ceil(MICRO_LAMPORTS_PER_LAMPORT);
        Self {
            signature_fee,
            prioritization_fee: u64::try_from(lamports).unwrap_or(u64::MAX),
        }
    }

    /// The whole fee.
    pub fn total(&self) -> u64 {
        self.signature_fee.saturating_add(self.prioritization_fee)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_fee_rounds_up() {
        let budget = ComputeBudget {
            compute_unit_limit: 200_000,
            compute_unit_price: 1,
        };
        // 200_000 µ-lamports = 0.2 lamports, rounded up to 1.
        assert_eq!(
            FeeDetails::new(1, &budget),
            FeeDetails {
                signature_fee: 5_000,
                prioritization_fee: 1
            }
        );
        let budget = ComputeBudget {
            compute_unit_limit: 1_400_000,
            compute_unit_price: 1_000_000,
        };
        assert_eq!(FeeDetails::new(2, &budget).total(), 10_000 + 1_400_000);
        let budget = ComputeBudget {
            compute_unit_limit: 1_400_000,
            compute_unit_price: u64::MAX,
        };
        assert_eq!(FeeDetails::new(1, &budget).total(), u64::MAX);
    }
}
