//! Reading accounts from the node and the two-instruction setups (create + initialize) that
//! every DeFi command composes from the System and Token builders.

use braid_program_token::{Mint, TokenAccount};
use braid_runtime::keypair::Keypair;
use braid_runtime::{Account, Instruction, Pubkey};

use crate::{Context, MINT_ACCOUNT_LAMPORTS, TOKEN_ACCOUNT_LAMPORTS};

/// The account at `key`; `what` names it in the error when it does not exist.
pub fn fetch(context: &Context, key: &Pubkey, what: &str) -> Result<Account, String> {
    context
        .client()
        .get_account(key)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{what} {key} does not exist"))
}

/// Whether an account exists at `key`.
pub fn exists(context: &Context, key: &Pubkey) -> Result<bool, String> {
    let account = context
        .client()
        .get_account_info(key)
        .map_err(|e| e.to_string())?;
    Ok(account.is_some())
}

/// The token account at `key`.
pub fn token_account(context: &Context, key: &Pubkey) -> Result<TokenAccount, String> {
    let account = fetch(context, key, "token account")?;
    if account.owner != braid_program_token::ID {
        return Err(format!("{key} is not a token account"));
    }
    TokenAccount::unpack(&account.data).map_err(|e| format!("{key} is not a token account: {e}"))
}

/// The mint at `key`.
pub fn mint(context: &Context, key: &Pubkey) -> Result<Mint, String> {
    let account = fetch(context, key, "mint")?;
    if account.owner != braid_program_token::ID {
        return Err(format!("{key} is not a mint"));
    }
    Mint::unpack(&account.data).map_err(|e| format!("{key} is not a mint: {e}"))
}

/// The token balance of `key`.
pub fn balance(context: &Context, key: &Pubkey) -> Result<u64, String> {
    Ok(token_account(context, key)?.amount)
}

/// Checks that `source` holds at least `amount` of `mint`, so a command fails before it
/// spends fees on setup transactions.
pub fn check_source(
    context: &Context,
    source: &Pubkey,
    mint: &Pubkey,
    amount: u64,
) -> Result<(), String> {
    let account = token_account(context, source)?;
    if account.mint != *mint {
        return Err(format!(
            "token account {source} holds mint {}, not {mint}",
            account.mint
        ));
    }
    if account.amount < amount {
        return Err(format!(
            "token account {source} holds {} tokens, fewer than {amount}",
            account.amount
        ));
    }
    Ok(())
}

/// Creates `account` (a new keypair) as a token account of `mint` owned by `owner`.
pub fn create_token_account(
    payer: &Pubkey,
    account: &Keypair,
    mint: &Pubkey,
    owner: &Pubkey,
) -> [Instruction; 2] {
    [
        braid_program_system::instruction::create_account(
            payer,
            &account.pubkey(),
            TOKEN_ACCOUNT_LAMPORTS,
            braid_program_token::ACCOUNT_LEN as u64,
            &braid_program_token::ID,
        ),
        braid_program_token::instruction::initialize_account3(&account.pubkey(), mint, owner),
    ]
}

/// Creates `mint` (a new keypair) with `authority` as mint authority and no freeze
/// authority.
pub fn create_mint(
    payer: &Pubkey,
    mint: &Keypair,
    authority: &Pubkey,
    decimals: u8,
) -> [Instruction; 2] {
    [
        braid_program_system::instruction::create_account(
            payer,
            &mint.pubkey(),
            MINT_ACCOUNT_LAMPORTS,
            braid_program_token::MINT_LEN as u64,
            &braid_program_token::ID,
        ),
        braid_program_token::instruction::initialize_mint2(
            &mint.pubkey(),
            authority,
            None,
            decimals,
        ),
    ]
}

/// Creates `account` (a new keypair) with `space` zeroed bytes owned by `program`, for the
/// program to initialize in the same transaction.
pub fn create_state_account(
    payer: &Pubkey,
    account: &Keypair,
    space: usize,
    program: &Pubkey,
) -> Instruction {
    braid_program_system::instruction::create_account(
        payer,
        &account.pubkey(),
        braid_runtime::rent::minimum_balance(space as u64),
        space as u64,
        program,
    )
}

/// A getTransaction reply as lines for a person: slot and outcome, fee and compute units,
/// each account whose lamports changed, then the logs.
pub fn describe_transaction(reply: &serde_json::Value) -> String {
    let meta = &reply["meta"];
    let outcome = match &meta["err"] {
        serde_json::Value::Null => "succeeded".to_owned(),
        err => format!("failed: {err}"),
    };
    let mut lines = vec![
        format!("slot {}: {outcome}", reply["slot"]),
        format!(
            "fee {} lamports, {} compute units",
            meta["fee"], meta["computeUnitsConsumed"]
        ),
    ];
    let message = &reply["transaction"]["message"];
    let loaded = &meta["loadedAddresses"];
    let keys: Vec<&serde_json::Value> = message["accountKeys"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(loaded["writable"].as_array().into_iter().flatten())
        .chain(loaded["readonly"].as_array().into_iter().flatten())
        .collect();
    let lamports = |field: &str, index: usize| meta[field][index].as_u64();
    for (index, key) in keys.iter().enumerate() {
        if let (Some(pre), Some(post)) = (
            lamports("preBalances", index),
            lamports("postBalances", index),
        ) && pre != post
        {
            let change = i128::from(post).saturating_sub(i128::from(pre));
            lines.push(format!(
                "{}: {pre} -> {post} ({change:+})",
                key.as_str().unwrap_or("?")
            ));
        }
    }
    for log in meta["logMessages"].as_array().into_iter().flatten() {
        lines.push(format!("  {}", log.as_str().unwrap_or_default()));
    }
    lines.join("\n")
}
