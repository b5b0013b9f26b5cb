//! The narrow trait through which the executor reads state, and an in-memory implementation.
//!
//! The executor never writes through it: it returns each transaction's writes and the caller
//! (the harness, a banking thread, accounts-db) decides where they go.

use std::collections::BTreeMap;

use crate::{Account, Pubkey};

/// Where the executor loads accounts from.
pub trait AccountSource {
    /// The account at `key`, or `None` if it does not exist (no lamports).
    fn get_account(&self, key: &Pubkey) -> Option<Account>;
}

impl<T: AccountSource + ?Sized> AccountSource for &T {
    fn get_account(&self, key: &Pubkey) -> Option<Account> {
        (**self).get_account(key)
    }
}

/// Accounts in an ordered map: for tests and the harness. Iteration is in key order, so
/// nothing built from it depends on hash order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InMemoryAccounts {
    accounts: BTreeMap<Pubkey, Account>,
}

impl InMemoryAccounts {
    /// No accounts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `account` at `key`; zero lamports deletes it. Returns the previous account.
    pub fn store(&mut self, key: Pubkey, account: Account) -> Option<Account> {
        if account.lamports == 0 {
            self.accounts.remove(&key)
        } else {
            self.accounts.insert(key, account)
        }
    }

    /// The account at `key`, borrowed.
    pub fn get(&self, key: &Pubkey) -> Option<&Account> {
        self.accounts.get(key)
    }

    /// Every account, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Pubkey, &Account)> {
        self.accounts.iter()
    }

    /// How many accounts exist.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether no account exists.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

impl AccountSource for InMemoryAccounts {
    fn get_account(&self, key: &Pubkey) -> Option<Account> {
        self.accounts.get(key).cloned()
    }
}
