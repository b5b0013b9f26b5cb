//! Instructions as clients build them: a program id, the accounts it touches with their
//! privileges, and opaque data.

use crate::Pubkey;

/// One account an instruction touches, with the privileges it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountMeta {
    /// The account.
    pub pubkey: Pubkey,
    /// Whether the account must sign the transaction (or be a PDA signed for in a call).
    pub is_signer: bool,
    /// Whether the instruction may change the account.
    pub is_writable: bool,
}

impl AccountMeta {
    /// A writable account.
    pub const fn new(pubkey: Pubkey, is_signer: bool) -> Self {
        Self {
            pubkey,
            is_signer,
            is_writable: true,
        }
    }

    /// A readonly account.
    pub const fn new_readonly(pubkey: Pubkey, is_signer: bool) -> Self {
        Self {
            pubkey,
            is_signer,
            is_writable: false,
        }
    }
}

/// An instruction before it is compiled into a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The program that processes it.
    pub program_id: Pubkey,
    /// The accounts it touches, in the order the program expects.
    pub accounts: Vec<AccountMeta>,
    /// Program-defined input.
    pub data: Vec<u8>,
}

impl Instruction {
    /// An instruction with raw data.
    pub fn new_with_bytes(program_id: Pubkey, data: &[u8], accounts: Vec<AccountMeta>) -> Self {
        Self {
            program_id,
            accounts,
            data: data.to_vec(),
        }
    }

    /// An instruction whose data is `value` encoded with borsh.
    pub fn new_with_borsh<T: borsh::BorshSerialize>(
        program_id: Pubkey,
        value: &T,
        accounts: Vec<AccountMeta>,
    ) -> Self {
        let data = borsh::to_vec(value).expect("borsh encoding into a Vec cannot fail");
        Self {
            program_id,
            accounts,
            data,
        }
    }

    /// An instruction whose data is `value` encoded like Solana's bincode 1 (fixed-width
    /// little-endian integers, u32 enum tags), as the System program expects.
    pub fn new_with_bincode<T: serde::Serialize>(
        program_id: Pubkey,
        value: &T,
        accounts: Vec<AccountMeta>,
    ) -> Self {
        let data = bincode::serde::encode_to_vec(value, bincode::config::legacy())
            .expect("bincode encoding into a Vec cannot fail");
        Self {
            program_id,
            accounts,
            data,
        }
    }
}
