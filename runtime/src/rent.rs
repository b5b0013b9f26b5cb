//! Rent as Solana defines it: the balance an account of a given size needs to be exempt,
//! and which changes a transaction may make to an account below it.
//!
//! Braid collects no rent over time. Where a ledger's genesis requires rent exemption
//! (`ExecutorConfig::rent_exemption`), a transaction may not leave an account holding
//! lamports but fewer than its size needs unless it already did and the transaction neither
//! grew it nor added lamports ([`RentState::transition_allowed`], Solana's rule): so nobody
//! creates a 10 MiB account for the price of a fee.

use crate::Account;

/// Lamports per byte-year (Solana's default).
pub const RENT_LAMPORTS_PER_BYTE_YEAR: u64 = 3_480;
/// Years of rent an account must hold to be exempt.
pub const RENT_EXEMPTION_YEARS: u64 = 2;
/// Bytes of overhead every account is charged rent for beyond its data.
pub const ACCOUNT_STORAGE_OVERHEAD_BYTES: u64 = 128;

/// Solana's minimum balance for an account of `data_bytes` to be rent-exempt.
pub const fn minimum_balance(data_bytes: u64) -> u64 {
    ACCOUNT_STORAGE_OVERHEAD_BYTES
        .saturating_add(data_bytes)
        .saturating_mul(RENT_LAMPORTS_PER_BYTE_YEAR)
        .saturating_mul(RENT_EXEMPTION_YEARS)
}

/// Where an account stands with respect to rent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RentState {
    /// No lamports: it does not exist.
    Uninitialized,
    /// Some lamports, fewer than exemption needs.
    RentPaying {
        /// Its data length.
        data_size: usize,
        /// Its lamports.
        lamports: u64,
    },
    /// At least the exempt minimum for its size.
    RentExempt,
}

impl RentState {
    /// The state of `account`.
    pub fn of(account: &Account) -> Self {
        if account.lamports == 0 {
            Self::Uninitialized
        } else if account.lamports >= minimum_balance(account.data.len() as u64) {
            Self::RentExempt
        } else {
            Self::RentPaying {
                data_size: account.data.len(),
                lamports: account.lamports,
            }
        }
    }

    /// Whether a transaction may take an account from `self` to `post`: it may always end
    /// empty or exempt; it may end rent-paying only if it was rent-paying already, with
    /// the same size and no more lamports.
    pub fn transition_allowed(&self, post: &Self) -> bool {
        match (self, post) {
            (_, Self::Uninitialized | Self::RentExempt) => true,
            (Self::Uninitialized | Self::RentExempt, Self::RentPaying { .. }) => false,
            (
                Self::RentPaying {
                    data_size: pre_size,
                    lamports: pre_lamports,
                },
                Self::RentPaying {
                    data_size: post_size,
                    lamports: post_lamports,
                },
            ) => post_size == pre_size && post_lamports <= pre_lamports,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_solanas_rule() {
        let account = |lamports, size| Account::new(lamports, size, &Default::default());
        let (empty, exempt) = (
            RentState::of(&account(0, 0)),
            RentState::of(&account(890_880, 0)),
        );
        let paying = RentState::of(&account(1_000, 10));
        assert_eq!(exempt, RentState::RentExempt);
        assert_eq!(
            paying,
            RentState::RentPaying {
                data_size: 10,
                lamports: 1_000
            }
        );
        assert!(empty.transition_allowed(&exempt));
        assert!(paying.transition_allowed(&empty));
        assert!(
            !empty.transition_allowed(&paying),
            "no new rent-paying accounts"
        );
        assert!(
            !exempt.transition_allowed(&paying),
            "no dropping below exemption"
        );
        assert!(paying.transition_allowed(&RentState::of(&account(999, 10))));
        assert!(!paying.transition_allowed(&RentState::of(&account(1_001, 10))));
        assert!(!paying.transition_allowed(&RentState::of(&account(900, 11))));
    }

    #[test]
    fn solanas_figures() {
        assert_eq!(super::minimum_balance(0), 890_880);
        assert_eq!(super::minimum_balance(165), 2_039_280);
        assert_eq!(super::minimum_balance(56), 1_280_640);
    }
}
