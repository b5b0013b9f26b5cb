//! System instructions, encoded as Solana encodes them (bincode 1: `u32` tag, little-endian).

use braid_runtime::{AccountMeta, Instruction, Pubkey};
use serde::{Deserialize, Serialize};

use crate::ID;

/// The System program's instructions, in Solana's tag order. Nonce instructions are listed
/// so tags line up, but the program rejects them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SystemInstruction {
    /// Tag 0. Accounts: `[writable, signer] funding`, `[writable, signer] new account`.
    CreateAccount {
        /// Lamports to move into the new account.
        lamports: u64,
        /// Bytes of zeroed data to allocate.
        space: u64,
        /// The new account's owner.
        owner: Pubkey,
    },
    /// Tag 1. Accounts: `[writable, signer] account`.
    Assign {
        /// The new owner.
        owner: Pubkey,
    },
    /// Tag 2. Accounts: `[writable, signer] from`, `[writable] to`.
    Transfer {
        /// Lamports to move.
        lamports: u64,
    },
    /// Tag 3. Accounts: `[writable, signer] funding`, `[writable] new account`,
    /// `[signer] base` (if different from funding).
    CreateAccountWithSeed {
        /// Base of the derived address.
        base: Pubkey,
        /// Seed of the derived address.
        seed: String,
        /// Lamports to move into the new account.
        lamports: u64,
        /// Bytes of zeroed data to allocate.
        space: u64,
        /// The new account's owner.
        owner: Pubkey,
    },
    /// Tag 4 (nonce accounts: not supported).
    AdvanceNonceAccount,
    /// Tag 5 (nonce accounts: not supported).
    WithdrawNonceAccount(u64),
    /// Tag 6 (nonce accounts: not supported).
    InitializeNonceAccount(Pubkey),
    /// Tag 7 (nonce accounts: not supported).
    AuthorizeNonceAccount(Pubkey),
    /// Tag 8. Accounts: `[writable, signer] account`.
    Allocate {
        /// Bytes of zeroed data to allocate.
        space: u64,
    },
    /// Tag 9. Accounts: `[writable] account`, `[signer] base`.
    AllocateWithSeed {
        /// Base of the derived address.
        base: Pubkey,
        /// Seed of the derived address.
        seed: String,
        /// Bytes of zeroed data to allocate.
        space: u64,
        /// The owner the address derives from, and the account's new owner.
        owner: Pubkey,
    },
    /// Tag 10. Accounts: `[writable] account`, `[signer] base`.
    AssignWithSeed {
        /// Base of the derived address.
        base: Pubkey,
        /// Seed of the derived address.
        seed: String,
        /// The new owner.
        owner: Pubkey,
    },
    /// Tag 11. Accounts: `[writable] from`, `[signer] base`, `[writable] to`.
    TransferWithSeed {
        /// Lamports to move.
        lamports: u64,
        /// Seed that derives `from` from `base`.
        from_seed: String,
        /// Owner that derives `from` from `base`.
        from_owner: Pubkey,
    },
    /// Tag 12 (nonce accounts: not supported).
    UpgradeNonceAccount,
}

/// Builds `CreateAccount`.
pub fn create_account(
    from: &Pubkey,
    to: &Pubkey,
    lamports: u64,
    space: u64,
    owner: &Pubkey,
) -> Instruction {
    Instruction::new_with_bincode(
        ID,
        &SystemInstruction::CreateAccount {
            lamports,
            space,
            owner: *owner,
        },
        vec![AccountMeta::new(*from, true), AccountMeta::new(*to, true)],
    )
}

/// Builds `CreateAccountWithSeed`; `to` must be `create_with_seed(base, seed, owner)`.
pub fn create_account_with_seed(
    from: &Pubkey,
    to: &Pubkey,
    base: &Pubkey,
    seed: &str,
    lamports: u64,
    space: u64,
    owner: &Pubkey,
) -> Instruction {
    let mut accounts = vec![AccountMeta::new(*from, true), AccountMeta::new(*to, false)];
    if base != from {
        accounts.push(AccountMeta::new_readonly(*base, true));
    }
    Instruction::new_with_bincode(
        ID,
        &SystemInstruction::CreateAccountWithSeed {
            base: *base,
            seed: seed.to_owned(),
            lamports,
            space,
            owner: *owner,
        },
        accounts,
    )
}

/// Builds `Assign`.
pub fn assign(account: &Pubkey, owner: &Pubkey) -> Instruction {
    Instruction::new_with_bincode(
        ID,
        &SystemInstruction::Assign { owner: *owner },
        vec![AccountMeta::new(*account, true)],
    )
}

/// Builds `Transfer`.
pub fn transfer(from: &Pubkey, to: &Pubkey, lamports: u64) -> Instruction {
    Instruction::new_with_bincode(
        ID,
        &SystemInstruction::Transfer { lamports },
        vec![AccountMeta::new(*from, true), AccountMeta::new(*to, false)],
    )
}

/// Builds `Allocate`.
pub fn allocate(account: &Pubkey, space: u64) -> Instruction {
    Instruction::new_with_bincode(
        ID,
        &SystemInstruction::Allocate { space },
        vec![AccountMeta::new(*account, true)],
    )
}

/// Builds `AllocateWithSeed`.
pub fn allocate_with_seed(
    address: &Pubkey,
    base: &Pubkey,
    seed: &str,
    space: u64,
    owner: &Pubkey,
) -> Instruction {
    Instruction::new_with_bincode(
        ID,
        &SystemInstruction::AllocateWithSeed {
            base: *base,
            seed: seed.to_owned(),
            space,
            owner: *owner,
        },
        vec![
            AccountMeta::new(*address, false),
            AccountMeta::new_readonly(*base, true),
        ],
    )
}

/// Builds `AssignWithSeed`.
pub fn assign_with_seed(
    address: &Pubkey,
    base: &Pubkey,
    seed: &str,
    owner: &Pubkey,
) -> Instruction {
    Instruction::new_with_bincode(
        ID,
        &SystemInstruction::AssignWithSeed {
            base: *base,
            seed: seed.to_owned(),
            owner: *owner,
        },
        vec![
            AccountMeta::new(*address, false),
            AccountMeta::new_readonly(*base, true),
        ],
    )
}

/// Builds `TransferWithSeed`.
pub fn transfer_with_seed(
    from: &Pubkey,
    from_base: &Pubkey,
    from_seed: &str,
    from_owner: &Pubkey,
    to: &Pubkey,
    lamports: u64,
) -> Instruction {
    Instruction::new_with_bincode(
        ID,
        &SystemInstruction::TransferWithSeed {
            lamports,
            from_seed: from_seed.to_owned(),
            from_owner: *from_owner,
        },
        vec![
            AccountMeta::new(*from, false),
            AccountMeta::new_readonly(*from_base, true),
            AccountMeta::new(*to, false),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_encoding_matches_solana() {
        // u32 tag 2, then u64 lamports, little-endian: Solana's bincode 1 layout.
        let ix = transfer(
            &Pubkey::new_from_array([1; 32]),
            &Pubkey::new_from_array([2; 32]),
            0x0102,
        );
        assert_eq!(ix.data, [2, 0, 0, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            ix.accounts[0],
            AccountMeta::new(Pubkey::new_from_array([1; 32]), true)
        );
        assert_eq!(
            ix.accounts[1],
            AccountMeta::new(Pubkey::new_from_array([2; 32]), false)
        );
    }

    #[test]
    fn create_account_encoding_matches_solana() {
        let owner = Pubkey::new_from_array([7; 32]);
        let ix = create_account(
            &Pubkey::new_from_array([1; 32]),
            &Pubkey::new_from_array([2; 32]),
            5,
            165,
            &owner,
        );
        let mut expected = vec![0, 0, 0, 0];
        expected.extend_from_slice(&5u64.to_le_bytes());
        expected.extend_from_slice(&165u64.to_le_bytes());
        expected.extend_from_slice(&[7; 32]);
        assert_eq!(ix.data, expected);
    }

    #[test]
    fn seed_strings_are_u64_length_prefixed() {
        let base = Pubkey::new_from_array([3; 32]);
        let ix = assign_with_seed(
            &Pubkey::new_from_array([1; 32]),
            &base,
            "ab",
            &Pubkey::new_from_array([4; 32]),
        );
        let mut expected = vec![10, 0, 0, 0];
        expected.extend_from_slice(&[3; 32]);
        expected.extend_from_slice(&2u64.to_le_bytes());
        expected.extend_from_slice(b"ab");
        expected.extend_from_slice(&[4; 32]);
        assert_eq!(ix.data, expected);
    }
}
