//! Transaction history as Solana's clients read it: getTransaction,
//! getSignaturesForAddress, getBlock with `full` or `accounts` details, and
//! getSignatureStatuses with `searchTransactionHistory`. Metadata includes the
//! cross-program calls (`innerInstructions`) the executor recorded.
//!
//! The index ([`crate::blocks::BlockIndex`]) says where a transaction is; its bytes and
//! metadata are read back from the ledger record, outside the index's lock. History holds
//! committed slots only, so `confirmed` and `finalized` read the same and `processed` is
//! refused, as Solana refuses it for these methods.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use braid_ledger::blockstore::{Block, Entry, EntryStatus};
use braid_program_token::Mint;
use braid_runtime::address_lookup_table::LoadedAddresses;
use braid_runtime::balances::TokenBalance;
use braid_runtime::invoke_context::InnerInstruction;
use braid_runtime::transaction::Transaction;
use braid_runtime::{Pubkey, Signature};
use serde_json::{Value, json};

use crate::blocks::{BlockSummary, TxLocation};
use crate::methods::{Commitment, Config, Params, RpcError, RpcState};
use crate::types::{ConfirmationStatus, RpcSignatureStatus, codes};

/// Most signatures getSignaturesForAddress returns (Solana's limit and default).
pub const SIGNATURES_FOR_ADDRESS_MAX: usize = 1_000;

/// What getBlock's `transactionDetails` asks for, beyond signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Details {
    /// Whole transactions and metadata.
    Full,
    /// Account keys and balances only.
    Accounts,
}

/// How a transaction's bytes are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    JsonParsed,
    Base58,
    Base64,
}

impl Encoding {
    fn of(config: &Config) -> Result<Self, RpcError> {
        match config.encoding.as_deref().unwrap_or("json") {
            "json" => Ok(Self::Json),
            "jsonParsed" => Ok(Self::JsonParsed),
            "base58" | "binary" => Ok(Self::Base58),
            "base64" => Ok(Self::Base64),
            other => Err(RpcError::invalid_params(format!(
                "Invalid param: unsupported encoding {other:?}: use json, jsonParsed, \
                 base58 or base64"
            ))),
        }
    }
}

/// History is of committed slots: `processed` cannot be served (Solana's refusal).
pub(crate) fn check_commitment(config: &Config) -> Result<(), RpcError> {
    if config.commitment == Some(Commitment::Processed) {
        return Err(RpcError::invalid_params(
            "Method does not support commitment below `confirmed`",
        ));
    }
    Ok(())
}

impl RpcState {
    /// The retained block of `slot`, read back from the ledger. `None` when the slot is
    /// not retained or the node keeps no ledger.
    pub(crate) fn read_block(
        &self,
        slot: u64,
    ) -> Result<Option<(Arc<BlockSummary>, Block)>, RpcError> {
        let (summary, reader) = {
            let index = self.block_index();
            (index.get(slot), index.ledger())
        };
        let (Some(summary), Some(reader)) = (summary, reader) else {
            return Ok(None);
        };
        let Some(offset) = summary.ledger_offset else {
            return Ok(None);
        };
        let block = reader.read(offset).map_err(|error| {
            RpcError::new(
                codes::INTERNAL_ERROR,
                format!("reading the ledger: {error}"),
            )
        })?;
        Ok(Some((summary, block)))
    }

    /// The status of a committed transaction found in the history, for
    /// getSignatureStatuses' `searchTransactionHistory`.
    pub(crate) fn searched_status(
        &self,
        signature: &Signature,
    ) -> Result<Option<RpcSignatureStatus>, RpcError> {
        let Some(location) = self.block_index().locate(signature) else {
            return Ok(None);
        };
        let Some((_, block)) = self.read_block(location.slot)? else {
            return Ok(None);
        };
        Ok(entry_at(&block, location).map(|entry| RpcSignatureStatus {
            slot: location.slot,
            confirmations: None,
            err: entry.meta.as_ref().and_then(|meta| meta.err.clone()),
            confirmation_status: ConfirmationStatus::Finalized,
        }))
    }
}

fn entry_at(block: &Block, location: TxLocation) -> Option<&Entry> {
    block.entries.get(usize::try_from(location.index).ok()?)
}

fn parse_signature(text: &str) -> Result<Signature, RpcError> {
    text.parse()
        .map_err(|error| RpcError::invalid_params(format!("Invalid param: {text:?}: {error}")))
}

/// getTransaction(signature, {encoding, commitment, maxSupportedTransactionVersion}).
pub(crate) fn get_transaction(params: &Params, state: &RpcState) -> Result<Value, RpcError> {
    let text: String = params.required(0, "signature")?;
    let signature = parse_signature(&text)?;
    let config = params.config(1)?;
    check_commitment(&config)?;
    let encoding = Encoding::of(&config)?;
    let Some(location) = state.block_index().locate(&signature) else {
        return Ok(Value::Null);
    };
    let Some((summary, block)) = state.read_block(location.slot)? else {
        return Ok(Value::Null);
    };
    let Some(entry) = entry_at(&block, location) else {
        return Ok(Value::Null);
    };
    let mut mints = MintDecimals::new(state);
    let mut value = encode_entry(entry, encoding, Details::Full, &config, &mut mints)?;
    value["slot"] = json!(location.slot);
    value["blockTime"] = json!(summary.block_time);
    Ok(value)
}

/// getSignaturesForAddress(address, {limit, before, until, commitment, minContextSlot}).
pub(crate) fn get_signatures_for_address(
    params: &Params,
    state: &RpcState,
) -> Result<Value, RpcError> {
    let address: Pubkey = params.pubkey(0)?;
    let config = params.config(1)?;
    check_commitment(&config)?;
    config.check_min_context_slot(state.shared().slot())?;
    let limit = match config.limit {
        None => SIGNATURES_FOR_ADDRESS_MAX,
        Some(limit) if (1..=SIGNATURES_FOR_ADDRESS_MAX as u64).contains(&limit) => {
            usize::try_from(limit).unwrap_or(SIGNATURES_FOR_ADDRESS_MAX)
        }
        Some(_) => {
            return Err(RpcError::invalid_params(format!(
                "Invalid limit; max {SIGNATURES_FOR_ADDRESS_MAX}"
            )));
        }
    };
    let before = config.before.as_deref().map(parse_signature).transpose()?;
    let until = config.until.as_deref().map(parse_signature).transpose()?;
    let found = {
        let index = state.block_index();
        let before_location = match before {
            // An unknown `before` has nothing retained older than it to list.
            Some(signature) => match index.locate(&signature) {
                Some(location) => Some(location),
                None => return Ok(json!([])),
            },
            None => None,
        };
        let until_location = until.and_then(|signature| index.locate(&signature));
        index.mentions(&address, before_location, until_location, limit)
    };
    // Each block read once, however many of its transactions are listed.
    let mut blocks: HashMap<u64, Option<(Arc<BlockSummary>, Block)>> = HashMap::new();
    let mut list = Vec::with_capacity(found.len());
    for (location, signature) in found {
        let read = match blocks.entry(location.slot) {
            std::collections::hash_map::Entry::Occupied(read) => read.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(state.read_block(location.slot)?)
            }
        };
        let Some((summary, block)) = read else {
            continue;
        };
        let Some(entry) = entry_at(block, location) else {
            continue;
        };
        list.push(json!({
            "signature": signature.to_string(),
            "slot": location.slot,
            "err": err_value(entry),
            "memo": memo(entry),
            "blockTime": summary.block_time,
            "confirmationStatus": "finalized",
        }));
    }
    Ok(Value::Array(list))
}

/// The `transactions` of getBlock for `details`.
pub(crate) fn block_transactions(
    block: &Block,
    details: Details,
    config: &Config,
    state: &RpcState,
) -> Result<Value, RpcError> {
    let encoding = Encoding::of(config)?;
    let mut mints = MintDecimals::new(state);
    let mut budget = crate::methods::ReplyBudget::new();
    let mut transactions = Vec::with_capacity(block.entries.len());
    for entry in &block.entries {
        // A transaction's reply is about twice its bytes plus its logs.
        let logs_bytes = entry
            .meta
            .as_ref()
            .map_or(0, |meta| meta.logs.iter().map(String::len).sum::<usize>());
        budget.add_account(
            entry
                .transaction
                .len()
                .saturating_mul(2)
                .saturating_add(logs_bytes),
        )?;
        transactions.push(encode_entry(entry, encoding, details, config, &mut mints)?);
    }
    Ok(Value::Array(transactions))
}

/// A recorded transaction as `{transaction, meta, version?}`.
fn encode_entry(
    entry: &Entry,
    encoding: Encoding,
    details: Details,
    config: &Config,
    mints: &mut MintDecimals<'_>,
) -> Result<Value, RpcError> {
    let tx = Transaction::from_bytes(&entry.transaction).map_err(|error| {
        RpcError::new(
            codes::INTERNAL_ERROR,
            format!("a recorded transaction does not parse: {error}"),
        )
    })?;
    let versioned = tx.message.is_versioned();
    // Solana's rule: a client that does not say it reads v0 gets an error, not a shape
    // it would misread.
    if versioned && config.max_supported_transaction_version.is_none() {
        return Err(RpcError::new(
            codes::UNSUPPORTED_TRANSACTION_VERSION,
            "Transaction version (0) is not supported by the requesting client. Please try \
             the request again with the following configuration parameter: \
             \"maxSupportedTransactionVersion\": 0",
        ));
    }
    let none = LoadedAddresses::default();
    let loaded = entry
        .meta
        .as_ref()
        .map_or(&none, |meta| &meta.loaded_addresses);
    // Static, then loaded keys: what every index in the transaction refers to.
    let keys = all_keys(&tx, loaded);
    let key = |index: u8| keys.get(usize::from(index)).map(ToString::to_string);
    let mut transaction = match (details, encoding) {
        (Details::Accounts, _) => json!({
            "signatures": signatures(&tx),
            "accountKeys": parsed_keys(&tx, loaded),
        }),
        (Details::Full, Encoding::Json) => json!({
            "signatures": signatures(&tx),
            "message": {
                "header": {
                    "numRequiredSignatures": tx.message.header.num_required_signatures,
                    "numReadonlySignedAccounts": tx.message.header.num_readonly_signed_accounts,
                    "numReadonlyUnsignedAccounts":
                        tx.message.header.num_readonly_unsigned_accounts,
                },
                "accountKeys": tx.message.account_keys.iter().map(ToString::to_string)
                    .collect::<Vec<_>>(),
                "recentBlockhash": tx.message.recent_blockhash.to_string(),
                "instructions": tx.message.instructions.iter().map(|instruction| json!({
                    "programIdIndex": instruction.program_id_index,
                    "accounts": instruction.accounts,
                    "data": bs58::encode(&instruction.data).into_string(),
                    "stackHeight": Value::Null,
                })).collect::<Vec<_>>(),
            },
        }),
        (Details::Full, Encoding::JsonParsed) => json!({
            "signatures": signatures(&tx),
            "message": {
                "accountKeys": parsed_keys(&tx, loaded),
                "recentBlockhash": tx.message.recent_blockhash.to_string(),
                // Instructions as Solana shows those of programs it does not parse.
                "instructions": tx.message.instructions.iter().map(|instruction| {
                    json!({
                        "programId": key(instruction.program_id_index),
                        "accounts": instruction.accounts.iter().filter_map(|&i| key(i))
                            .collect::<Vec<_>>(),
                        "data": bs58::encode(&instruction.data).into_string(),
                        "stackHeight": Value::Null,
                    })
                }).collect::<Vec<_>>(),
            },
        }),
        (Details::Full, Encoding::Base58) => {
            json!([bs58::encode(&entry.transaction).into_string(), "base58"])
        }
        (Details::Full, Encoding::Base64) => json!([
            base64::engine::general_purpose::STANDARD.encode(&entry.transaction),
            "base64"
        ]),
    };
    let meta = match &entry.meta {
        None => Value::Null,
        Some(meta) => {
            let err = err_value(entry);
            let status = match &err {
                Value::Null => json!({ "Ok": Value::Null }),
                err => json!({ "Err": err }),
            };
            let mut value = json!({
                "err": err,
                "status": status,
                "fee": entry.fee,
                "preBalances": meta.balances.pre_lamports,
                "postBalances": meta.balances.post_lamports,
                "preTokenBalances": mints.encode(&meta.balances.pre_tokens),
                "postTokenBalances": mints.encode(&meta.balances.post_tokens),
                "rewards": [],
            });
            if details == Details::Full {
                value["innerInstructions"] =
                    inner_instructions(&meta.inner_instructions, encoding, &keys);
                value["logMessages"] = json!(meta.logs);
                value["loadedAddresses"] = json!({
                    "writable": loaded.writable.iter().map(ToString::to_string)
                        .collect::<Vec<_>>(),
                    "readonly": loaded.readonly.iter().map(ToString::to_string)
                        .collect::<Vec<_>>(),
                });
                value["computeUnitsConsumed"] = json!(entry.compute_units);
            }
            value
        }
    };
    // Solana leaves the field out of a legacy message.
    if versioned && let Some(message) = transaction.get_mut("message") {
        message["addressTableLookups"] = lookups_value(&tx);
    }
    let mut value = json!({ "transaction": transaction, "meta": meta });
    if config.max_supported_transaction_version.is_some() {
        value["version"] = if versioned { json!(0) } else { json!("legacy") };
    }
    Ok(value)
}

/// Cross-program calls in Solana's shape: grouped under the top-level instruction that
/// made them, each with its stack height; `jsonParsed` names programs and accounts.
fn inner_instructions(calls: &[InnerInstruction], encoding: Encoding, keys: &[Pubkey]) -> Value {
    let mut groups: Vec<(u8, Vec<Value>)> = Vec::new();
    for call in calls {
        let data = bs58::encode(&call.data).into_string();
        let value = if encoding == Encoding::JsonParsed {
            let key = |index: u8| keys.get(usize::from(index)).map(ToString::to_string);
            json!({
                "programId": key(call.program_id_index),
                "accounts": call.accounts.iter().filter_map(|&i| key(i)).collect::<Vec<_>>(),
                "data": data,
                "stackHeight": call.stack_height,
            })
        } else {
            json!({
                "programIdIndex": call.program_id_index,
                "accounts": call.accounts,
                "data": data,
                "stackHeight": call.stack_height,
            })
        };
        match groups.last_mut() {
            Some((index, group)) if *index == call.index => group.push(value),
            _ => groups.push((call.index, vec![value])),
        }
    }
    json!(
        groups
            .into_iter()
            .map(|(index, instructions)| json!({ "index": index, "instructions": instructions }))
            .collect::<Vec<_>>()
    )
}

/// A v0 message's lookups in Solana's JSON.
fn lookups_value(tx: &Transaction) -> Value {
    match &tx.message.address_table_lookups {
        None => json!([]),
        Some(lookups) => json!(
            lookups
                .iter()
                .map(|lookup| json!({
                    "accountKey": lookup.account_key.to_string(),
                    "writableIndexes": lookup.writable_indexes,
                    "readonlyIndexes": lookup.readonly_indexes,
                }))
                .collect::<Vec<_>>()
        ),
    }
}

/// Static keys, then loaded writable, then loaded readonly: what instructions index.
fn all_keys(tx: &Transaction, loaded: &LoadedAddresses) -> Vec<Pubkey> {
    let mut keys = tx.message.account_keys.clone();
    keys.extend_from_slice(&loaded.writable);
    keys.extend_from_slice(&loaded.readonly);
    keys
}

fn signatures(tx: &Transaction) -> Vec<String> {
    tx.signatures.iter().map(ToString::to_string).collect()
}

/// Account keys as jsonParsed shows them, loaded ones marked as such.
fn parsed_keys(tx: &Transaction, loaded: &LoadedAddresses) -> Vec<Value> {
    let statics = tx
        .message
        .account_keys
        .iter()
        .enumerate()
        .map(|(index, key)| {
            json!({
                "pubkey": key.to_string(),
                "signer": tx.message.is_signer(index),
                "writable": tx.message.is_writable(index),
                "source": "transaction",
            })
        });
    let loaded_keys = loaded
        .writable
        .iter()
        .map(|key| (key, true))
        .chain(loaded.readonly.iter().map(|key| (key, false)))
        .map(|(key, writable)| {
            json!({
                "pubkey": key.to_string(),
                "signer": false,
                "writable": writable,
                "source": "lookupTable",
            })
        });
    statics.chain(loaded_keys).collect()
}

/// A recorded transaction's error as Solana's JSON (`null` when it succeeded).
fn err_value(entry: &Entry) -> Value {
    match (&entry.meta, entry.status) {
        (Some(meta), _) => serde_json::to_value(&meta.err).unwrap_or(Value::Null),
        (None, EntryStatus::Ok) => Value::Null,
        // Recorded before Braid kept transaction history: failed, cause not kept.
        (None, EntryStatus::Failed) => json!("InstructionError (cause not recorded)"),
    }
}

/// Solana's `memo` field: each memo instruction's text as `[length] text`, joined by `; `.
fn memo(entry: &Entry) -> Value {
    let Ok(tx) = Transaction::from_bytes(&entry.transaction) else {
        return Value::Null;
    };
    let memos: Vec<String> = tx
        .message
        .instructions
        .iter()
        .filter(|instruction| {
            tx.message
                .account_keys
                .get(usize::from(instruction.program_id_index))
                .is_some_and(|program| {
                    *program == braid_program_memo::ID || *program == braid_program_memo::ID_V1
                })
        })
        .map(|instruction| {
            format!(
                "[{}] {}",
                instruction.data.len(),
                String::from_utf8_lossy(&instruction.data)
            )
        })
        .collect();
    if memos.is_empty() {
        Value::Null
    } else {
        json!(memos.join("; "))
    }
}

/// Mint decimals for token balances, read from the mint accounts as they are now (a
/// mint's decimals never change) and remembered for one reply.
struct MintDecimals<'a> {
    state: &'a RpcState,
    known: HashMap<Pubkey, Option<u8>>,
}

impl<'a> MintDecimals<'a> {
    fn new(state: &'a RpcState) -> Self {
        Self {
            state,
            known: HashMap::new(),
        }
    }

    fn decimals(&mut self, mint: &Pubkey) -> Option<u8> {
        let state = self.state;
        *self.known.entry(*mint).or_insert_with(|| {
            let account = state.account(mint)?;
            Mint::unpack(&account.data).ok().map(|mint| mint.decimals)
        })
    }

    /// Solana's `preTokenBalances`/`postTokenBalances` entries.
    fn encode(&mut self, balances: &[TokenBalance]) -> Vec<Value> {
        balances
            .iter()
            .map(|balance| {
                let decimals = self.decimals(&balance.amount.mint).unwrap_or(0);
                json!({
                    "accountIndex": balance.account_index,
                    "mint": balance.amount.mint.to_string(),
                    "owner": balance.amount.owner.to_string(),
                    "programId": balance.program_id.to_string(),
                    "uiTokenAmount": crate::token::ui_amount(balance.amount.amount, decimals),
                })
            })
            .collect()
    }
}
