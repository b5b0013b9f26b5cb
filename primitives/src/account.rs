//! The account: the unit of state every transaction declares, reads and writes.

use crate::Pubkey;

/// Largest account data, in bytes (10 MiB, as in Solana).
pub const ACCOUNT_DATA_BYTES_MAX: usize = 10 * 1024 * 1024;

/// An account's state. An account whose lamports are zero does not exist.
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    /// Balance in lamports.
    pub lamports: u64,
    /// The program that may debit it and change its data.
    pub owner: Pubkey,
    /// Whether the account holds a program (then it never changes).
    pub executable: bool,
    /// Program-defined contents.
    pub data: Vec<u8>,
}

impl Account {
    /// An account with `lamports`, `space` zeroed bytes of data, owned by `owner`.
    pub fn new(lamports: u64, space: usize, owner: &Pubkey) -> Self {
        Self {
            lamports,
            owner: *owner,
            executable: false,
            data: vec![0; space],
        }
    }

    /// An account holding `data`, owned by `owner`.
    pub fn with_data(lamports: u64, data: Vec<u8>, owner: &Pubkey) -> Self {
        Self {
            lamports,
            owner: *owner,
            executable: false,
            data,
        }
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Data can be megabytes; show its length and a prefix only.
        let prefix_len = self.data.len().min(16);
        f.debug_struct("Account")
            .field("lamports", &self.lamports)
            .field("owner", &self.owner)
            .field("executable", &self.executable)
            .field("data_len", &self.data.len())
            .field("data_prefix", &&self.data[..prefix_len])
            .finish()
    }
}
