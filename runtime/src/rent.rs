//! Rent as Solana defines it: the balance an account of a given size needs to be exempt.
//! Braid charges no rent over time; programs that create accounts fund them to this figure,
//! as Solana's do, and RPC reports it.

/// Lamports per byte-year (Solana's default).
pub const RENT_LAMPORTS_PER_BYTE_YEAR: u64 = 3_480;
/// Years of rent an account must hold to be exempt.
pub const RENT_EXEMPTION_YEARS: u64 = 2;
/// Bytes of overhead every account is charged rent for beyond its data.
pub const ACCOUNT_STORAGE_OVERHEAD_BYTES: u64 = 128;

/// Solana's minimum balance for an account of `data_bytes` to be rent-exempt.
pub fn minimum_balance(data_bytes: u64) -> u64 {
    ACCOUNT_STORAGE_OVERHEAD_BYTES
        .saturating_add(data_bytes)
        .saturating_mul(RENT_LAMPORTS_PER_BYTE_YEAR)
        .saturating_mul(RENT_EXEMPTION_YEARS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn solanas_figures() {
        assert_eq!(super::minimum_balance(0), 890_880);
        assert_eq!(super::minimum_balance(165), 2_039_280);
        assert_eq!(super::minimum_balance(56), 1_280_640);
    }
}
