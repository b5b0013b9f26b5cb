//! What a transaction did to balances: every account's lamports before and after, and the
//! token balances of the accounts a program reports as token accounts. RPC's
//! `preBalances`/`postBalances` and `preTokenBalances`/`postTokenBalances` are these.
//!
//! The runtime knows no token layout: a program that keeps token accounts says how to read
//! one ([`Program::token_balance`](crate::program::Program::token_balance)), and the
//! executor asks the owner of each account it loaded.

use serde::{Deserialize, Serialize};

use crate::Pubkey;

/// A token account's balance as its program reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAmount {
    /// The token's mint.
    pub mint: Pubkey,
    /// Who may spend it.
    pub owner: Pubkey,
    /// Base units held.
    pub amount: u64,
}

/// One token account's balance, placed in its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBalance {
    /// The account's index in the transaction's account keys.
    pub account_index: u8,
    /// The program that owns the account.
    pub program_id: Pubkey,
    /// What it holds.
    pub amount: TokenAmount,
}

/// Balances around one executed transaction, indexed like its account keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionBalances {
    /// Lamports of every account before the transaction (the fee payer's before its fee).
    pub pre_lamports: Vec<u64>,
    /// Lamports of every account after it.
    pub post_lamports: Vec<u64>,
    /// Token accounts before it, in account order.
    pub pre_tokens: Vec<TokenBalance>,
    /// Token accounts after it, in account order.
    pub post_tokens: Vec<TokenBalance>,
}
