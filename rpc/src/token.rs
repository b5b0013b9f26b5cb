//! The SPL Token methods: balances and supplies as Solana's `UiTokenAmount`, and token
//! accounts by owner or delegate, read from the Token program's account layouts.

use braid_accounts_db::AccountsDb;
use braid_program_token::{ACCOUNT_LEN, AccountState, MINT_LEN, Mint, TokenAccount};
use braid_runtime::{Account, Pubkey};
use serde_json::{Value, json};

use crate::methods::{KeyedAccounts, Params, RpcError, RpcState};
use crate::types::{RpcContext, RpcResponse, codes};

/// Accounts getTokenLargestAccounts lists (Solana's figure).
pub const TOKEN_LARGEST_ACCOUNTS_LISTED: usize = 20;

/// Answers one of the token methods (listed in [`crate::methods::METHODS`]).
pub(crate) fn call(method: &str, params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    match method {
        "getTokenAccountBalance" => {
            let key = params.pubkey(0)?;
            let account = token_account(state, &key)?;
            let decimals = mint(state, &account.mint)?.decimals;
            state_value(state, ui_amount(account.amount, decimals))
        }
        "getTokenSupply" => {
            let key = params.pubkey(0)?;
            let mint = mint(state, &key)?;
            state_value(state, ui_amount(mint.supply, mint.decimals))
        }
        "getTokenAccountsByOwner" | "getTokenAccountsByDelegate" => {
            let by_owner = method == "getTokenAccountsByOwner";
            let holder = params.pubkey(0)?;
            let filter: Value = params.required(1, "{\"mint\": ...} or {\"programId\": ...}")?;
            let mint_filter = match (filter.get("mint"), filter.get("programId")) {
                (Some(Value::String(mint)), None) => Some(parse_key(mint)?),
                (None, Some(Value::String(program))) => {
                    if parse_key(program)? != braid_program_token::ID {
                        return Err(RpcError::invalid_params(
                            "Invalid param: unrecognized Token program id",
                        ));
                    }
                    None
                }
                _ => {
                    return Err(RpcError::invalid_params(
                        "Invalid params: expected {\"mint\": address} or {\"programId\": address}",
                    ));
                }
            };
            let config = params.config(2)?;
            let db = state.shared().accounts_db();
            let _permit = state.scan_permit()?;
            let mut found = KeyedAccounts::new(&config, db);
            let slot = scan(state, |key, account, token| {
                let holds = if by_owner {
                    token.owner == holder
                } else {
                    token.delegate == Some(holder)
                };
                if holds && mint_filter.is_none_or(|mint| token.mint == mint) {
                    found.push(key, account);
                }
            })?;
            let found = found.finish()?;
            response(slot, Value::Array(found))
        }
        "getTokenLargestAccounts" => {
            let key = params.pubkey(0)?;
            let decimals = mint(state, &key)?.decimals;
            let _permit = state.scan_permit()?;
            let mut holders: Vec<(u64, Pubkey)> = Vec::new();
            // Largest first, ties by address: the same list on every call.
            let order = |a: &(u64, Pubkey), b: &(u64, Pubkey)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
            let slot = scan(state, |address, _, token| {
                if token.mint == key {
                    holders.push((token.amount, *address));
                    // Kept short while scanning: memory stays bounded however many hold it.
                    if holders.len() > TOKEN_LARGEST_ACCOUNTS_LISTED.saturating_mul(2) {
                        holders.sort_unstable_by(order);
                        holders.truncate(TOKEN_LARGEST_ACCOUNTS_LISTED);
                    }
                }
            })?;
            holders.sort_unstable_by(order);
            holders.truncate(TOKEN_LARGEST_ACCOUNTS_LISTED);
            let value: Vec<Value> = holders
                .into_iter()
                .map(|(amount, address)| {
                    let mut entry = ui_amount(amount, decimals);
                    entry["address"] = json!(address.to_string());
                    entry
                })
                .collect();
            response(slot, Value::Array(value))
        }
        _ => Err(RpcError::new(codes::METHOD_NOT_FOUND, "Method not found")),
    }
}

fn parse_key(text: &str) -> Result<Pubkey, RpcError> {
    text.parse()
        .map_err(|error| RpcError::invalid_params(format!("invalid public key {text:?}: {error}")))
}

/// Solana's `UiTokenAmount`: the raw amount as a string, and scaled by the decimals.
pub(crate) fn ui_amount(amount: u64, decimals: u8) -> Value {
    let text = amount.to_string();
    let ui_string = if decimals == 0 {
        text.clone()
    } else {
        let width = usize::from(decimals).saturating_add(1);
        let padded = format!("{text:0>width$}");
        let (whole, fraction) = padded.split_at(padded.len().saturating_sub(usize::from(decimals)));
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            whole.to_owned()
        } else {
            format!("{whole}.{fraction}")
        }
    };
    json!({
        "amount": text,
        "decimals": decimals,
        "uiAmount": ui_string.parse::<f64>().ok(),
        "uiAmountString": ui_string,
    })
}

fn not_token(what: &str) -> RpcError {
    RpcError::invalid_params(format!("Invalid param: not a Token {what}"))
}

/// The Token program's `what` (an account or a mint) at `key`, unpacked.
fn token_state<T, E>(
    state: &RpcState,
    key: &Pubkey,
    what: &str,
    unpack: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Result<T, RpcError> {
    let account = state
        .account(key)
        .ok_or_else(|| RpcError::invalid_params(format!("Invalid param: could not find {what}")))?;
    if account.owner != braid_program_token::ID {
        return Err(not_token(what));
    }
    unpack(&account.data).map_err(|_| not_token(what))
}

fn token_account(state: &RpcState, key: &Pubkey) -> Result<TokenAccount, RpcError> {
    token_state(state, key, "account", TokenAccount::unpack)
}

fn mint(state: &RpcState, key: &Pubkey) -> Result<Mint, RpcError> {
    token_state(state, key, "mint", Mint::unpack)
}

fn state_value(state: &RpcState, value: Value) -> Result<Value, RpcError> {
    response(state.shared().slot(), value)
}

fn response(slot: u64, value: Value) -> Result<Value, RpcError> {
    serde_json::to_value(RpcResponse {
        context: RpcContext { slot },
        value,
    })
    .map_err(|error| {
        RpcError::new(
            codes::INTERNAL_ERROR,
            format!("encoding the reply: {error}"),
        )
    })
}

/// Calls `f` on every initialized committed token account; returns the slot walked.
fn scan(
    state: &RpcState,
    mut f: impl FnMut(&Pubkey, &Account, &TokenAccount),
) -> Result<u64, RpcError> {
    state
        .shared()
        .accounts_db()
        .for_each_committed(|key, account| {
            if account.owner == braid_program_token::ID
                && account.data.len() == ACCOUNT_LEN
                && let Ok(token) = TokenAccount::unpack(&account.data)
            {
                f(key, account, &token);
            }
        })
        .map(|(slot, _)| slot)
        .map_err(|error| RpcError::new(codes::INTERNAL_ERROR, format!("reading accounts: {error}")))
}

/// Solana's `jsonParsed` form of an SPL Token mint or account; `None` for anything else
/// (the caller falls back to base64, as Solana does).
pub(crate) fn parse(account: &Account, db: &AccountsDb) -> Option<Value> {
    if account.owner != braid_program_token::ID {
        return None;
    }
    let key_or_null = |key: Option<Pubkey>| key.map_or(Value::Null, |key| json!(key.to_string()));
    let (kind, info) = if account.data.len() == MINT_LEN {
        let mint = Mint::unpack(&account.data).ok()?;
        (
            "mint",
            json!({
                "decimals": mint.decimals,
                "freezeAuthority": key_or_null(mint.freeze_authority),
                "isInitialized": mint.is_initialized,
                "mintAuthority": key_or_null(mint.mint_authority),
                "supply": mint.supply.to_string(),
            }),
        )
    } else if account.data.len() == ACCOUNT_LEN {
        let token = TokenAccount::unpack(&account.data).ok()?;
        let decimals = db
            .get(&token.mint)
            .and_then(|mint| Mint::unpack(&mint.data).ok())?
            .decimals;
        let mut info = json!({
            "isNative": token.is_native.is_some(),
            "mint": token.mint.to_string(),
            "owner": token.owner.to_string(),
            "state": if token.state == AccountState::Frozen { "frozen" } else { "initialized" },
            "tokenAmount": ui_amount(token.amount, decimals),
        });
        if let Some(delegate) = token.delegate {
            info["delegate"] = json!(delegate.to_string());
            info["delegatedAmount"] = ui_amount(token.delegated_amount, decimals);
        }
        if let Some(close_authority) = token.close_authority {
            info["closeAuthority"] = json!(close_authority.to_string());
        }
        ("account", info)
    } else {
        return None;
    };
    Some(json!({
        "program": "spl-token",
        "parsed": { "info": info, "type": kind },
        "space": account.data.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::ui_amount;

    #[test]
    fn ui_amounts_scale_by_the_decimals() {
        assert_eq!(ui_amount(1_500_000, 6)["uiAmountString"], "1.5");
        assert_eq!(ui_amount(1_500_000, 6)["uiAmount"], 1.5);
        assert_eq!(ui_amount(5, 6)["uiAmountString"], "0.000005");
        assert_eq!(ui_amount(0, 6)["uiAmountString"], "0");
        assert_eq!(ui_amount(42, 0)["uiAmountString"], "42");
        assert_eq!(ui_amount(u64::MAX, 9)["amount"], "18446744073709551615");
        assert_eq!(
            ui_amount(u64::MAX, 9)["uiAmountString"],
            "18446744073.709551615"
        );
    }
}
