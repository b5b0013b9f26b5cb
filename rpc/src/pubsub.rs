//! Solana's PubSub: signatureSubscribe, accountSubscribe, programSubscribe, logsSubscribe,
//! slotSubscribe and rootSubscribe (and their unsubscribes) over WebSocket, fed by the
//! pipeline's events.
//!
//! ```text
//! pipeline events ─► node's event thread ─► PubSub::on_event ─► per-subscription queue
//!                                              (matching)          (bounded, try_send)
//!                                                                      │
//!                       WebSocket ◄── jsonrpsee sink ◄── subscription task
//! ```
//!
//! Key decision: matching happens once per event on the event thread (a hash lookup per
//! signature, a read per watched account per slot), and delivery never blocks it: each
//! subscription has a bounded queue, and a subscriber that lets it fill is dropped (its
//! stream ends with an error notification), as Solana drops slow subscribers.
//!
//! Commitment on one node: `processed` is "executed"; `confirmed` and `finalized` are "the
//! slot is durable". Account and program notifications are sent when a slot that changed
//! the account is durable, whatever commitment was asked for (never earlier than
//! `processed` would be); logs follow the commitment asked for.

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use braid_accounts_db::AccountsDb;
use braid_interfaces::ExecutionEvent;
use braid_primitives::KeyHasherBuilder;
use braid_runtime::{Account, Pubkey, Signature};
use jsonrpsee::core::SubscriptionError;
use jsonrpsee::server::{PendingSubscriptionSink, RpcModule, SubscriptionSink, TrySendError};
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::methods::{
    Commitment, CompiledFilter, Params, RpcError, RpcState, compile_filters, encode_account,
    matches_filters,
};
use crate::server::positional;
use crate::status::StatusTracker;
use crate::types::ConfirmationStatus;

/// Notifications queued for one subscription before its subscriber counts as too slow.
pub const NOTIFICATIONS_QUEUED_MAX: usize = 256;
/// Bytes of notifications queued for one subscription before its subscriber counts as too
/// slow: a large account changed every slot must not pile up in memory.
pub const NOTIFICATION_BYTES_QUEUED_MAX: usize = 32 << 20;
/// Messages a subscription lets wait in its connection's buffer before it holds back.
const CONNECTION_MESSAGES_WAITING_MAX: usize = 8;
/// How often a held-back subscription looks at its connection's buffer again.
const FORWARD_RETRY_INTERVAL: std::time::Duration = std::time::Duration::from_millis(5);

/// One notification for a subscription, and whether it is the last.
#[derive(Debug)]
struct Notice {
    result: Value,
    last: bool,
}

/// A notification encoded and queued for its subscriber, holding its bytes against the
/// subscription's budget until it is sent or dropped.
struct Queued {
    message: Box<serde_json::value::RawValue>,
    last: bool,
    _charge: Charge,
}

/// Bytes counted against a subscription's queue; given back when dropped.
struct Charge {
    queued: Arc<std::sync::atomic::AtomicUsize>,
    bytes: usize,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.queued.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// A subscription's end of its queue.
struct Watch {
    id: u64,
    queue: mpsc::Sender<Queued>,
    /// Bytes of notifications queued and not yet handed to the WebSocket.
    queued: Arc<std::sync::atomic::AtomicUsize>,
}

struct SignatureWatch {
    watch: Watch,
    commitment: Commitment,
    received: bool,
    /// The outcome, once the transaction executed (kept here: the status tracker may
    /// have forgotten it by the time its slot is durable).
    outcome: Option<Option<braid_runtime::TransactionError>>,
}

struct AccountWatch {
    watch: Watch,
    config: crate::methods::Config,
    /// What the subscriber last heard, so an unchanged account is not re-announced.
    fingerprint: Option<u64>,
}

struct ProgramWatch {
    watch: Watch,
    program: Pubkey,
    config: crate::methods::Config,
    filters: Vec<CompiledFilter>,
}

/// Which transactions' logs a subscriber wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogsFilter {
    /// Every transaction (`"all"`, `"allWithVotes"`: Braid has no votes).
    All,
    /// Transactions that name this account.
    Mentions(Pubkey),
}

struct LogsWatch {
    watch: Watch,
    filter: LogsFilter,
    commitment: Commitment,
    /// Notices waiting for their slot to be durable: (slot, notice).
    waiting: Vec<(u64, Notice)>,
}

#[derive(Default)]
struct Registry {
    signatures: HashMap<Signature, Vec<SignatureWatch>, KeyHasherBuilder>,
    accounts: HashMap<Pubkey, Vec<AccountWatch>, KeyHasherBuilder>,
    programs: Vec<ProgramWatch>,
    logs: Vec<LogsWatch>,
    slots: Vec<Watch>,
    roots: Vec<Watch>,
    /// Accounts the transactions of each not yet durable slot named, while a program
    /// subscription needs them.
    touched: std::collections::BTreeMap<u64, std::collections::BTreeSet<Pubkey>>,
}

/// The subscriptions of every connection, and what feeds them.
pub struct PubSub {
    registry: Mutex<Registry>,
    tracker: Arc<Mutex<StatusTracker>>,
    db: Arc<AccountsDb>,
    next_id: AtomicU64,
}

/// Why a subscription's stream ended early.
const TOO_SLOW: &str = "subscription dropped: the client did not read its notifications";

impl PubSub {
    /// Subscriptions answered from `tracker` (statuses already known) and `db` (accounts).
    pub fn new(tracker: Arc<Mutex<StatusTracker>>, db: Arc<AccountsDb>) -> Self {
        Self {
            registry: Mutex::new(Registry::default()),
            tracker,
            db,
            next_id: AtomicU64::new(0),
        }
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // Entries are inserted and removed whole: a panic elsewhere leaves it consistent.
        self.registry
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn watch(&self) -> (Watch, mpsc::Receiver<Queued>) {
        let (queue, receiver) = mpsc::channel(NOTIFICATIONS_QUEUED_MAX);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        (Watch { id, queue, queued }, receiver)
    }

    /// Feeds one pipeline event to the subscriptions it concerns. Never blocks.
    pub fn on_event(&self, event: &ExecutionEvent) {
        let mut registry = self.registry();
        match event {
            ExecutionEvent::Processed {
                signature,
                slot,
                status,
                logs,
                account_keys,
            } => {
                let err = status.as_ref().err().cloned();
                if !registry.programs.is_empty() {
                    registry
                        .touched
                        .entry(*slot)
                        .or_default()
                        .extend(account_keys.iter().copied());
                }
                if !registry.logs.is_empty() {
                    let value = json!({
                        "context": { "slot": slot },
                        "value": { "signature": signature.to_string(), "err": err, "logs": logs },
                    });
                    registry.logs.retain_mut(|watch| {
                        let wanted = match watch.filter {
                            LogsFilter::All => true,
                            LogsFilter::Mentions(key) => account_keys.contains(&key),
                        };
                        if !wanted {
                            return true;
                        }
                        let notice = Notice {
                            result: value.clone(),
                            last: false,
                        };
                        if watch.commitment == Commitment::Processed {
                            deliver(&watch.watch, notice)
                        } else if watch.waiting.len() < NOTIFICATIONS_QUEUED_MAX {
                            watch.waiting.push((*slot, notice));
                            true
                        } else {
                            // As slow as a full queue: the subscriber is dropped.
                            false
                        }
                    });
                }
                let Some(watches) = registry.signatures.get_mut(signature) else {
                    return;
                };
                watches.retain_mut(|watch| {
                    watch.outcome = Some(err.clone());
                    if watch.received {
                        watch.received = false;
                        let notice = Notice {
                            result: json!({ "context": { "slot": slot }, "value": "receivedSignature" }),
                            last: false,
                        };
                        if !deliver(&watch.watch, notice) {
                            return false;
                        }
                    }
                    if watch.commitment != Commitment::Processed {
                        return true;
                    }
                    let notice = Notice {
                        result: json!({ "context": { "slot": slot }, "value": { "err": err } }),
                        last: true,
                    };
                    deliver(&watch.watch, notice);
                    false
                });
                if watches.is_empty() {
                    registry.signatures.remove(signature);
                }
            }
            ExecutionEvent::Rejected { .. } => {}
            ExecutionEvent::SlotCommitted(commit) => {
                let slot = commit.slot;
                for signature in &commit.signatures {
                    let Some(watches) = registry.signatures.remove(signature) else {
                        continue;
                    };
                    let (done, waiting): (Vec<_>, Vec<_>) = watches
                        .into_iter()
                        .partition(|watch| watch.commitment != Commitment::Processed);
                    let known = || {
                        self.tracker
                            .lock()
                            .unwrap_or_else(|poison| poison.into_inner())
                            .get(signature)
                            .and_then(|status| status.err)
                    };
                    for watch in done {
                        let err = watch.outcome.clone().unwrap_or_else(known);
                        deliver(
                            &watch.watch,
                            Notice {
                                result: json!({ "context": { "slot": slot }, "value": { "err": err } }),
                                last: true,
                            },
                        );
                    }
                    if !waiting.is_empty() {
                        registry.signatures.insert(*signature, waiting);
                    }
                }
                let parent = slot.saturating_sub(1);
                registry.slots.retain(|watch| {
                    deliver(
                        watch,
                        Notice {
                            result: json!({ "slot": slot, "parent": parent, "root": slot }),
                            last: false,
                        },
                    )
                });
                registry.roots.retain(|watch| {
                    deliver(
                        watch,
                        Notice {
                            result: json!(slot),
                            last: false,
                        },
                    )
                });
                registry.logs.retain_mut(|watch| {
                    let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut watch.waiting)
                        .into_iter()
                        .partition(|(notice_slot, _)| *notice_slot <= slot);
                    watch.waiting = later;
                    due.into_iter()
                        .all(|(_, notice)| deliver(&watch.watch, notice))
                });
                let touched: Vec<Pubkey> = {
                    let later = registry.touched.split_off(&slot.saturating_add(1));
                    let due = std::mem::replace(&mut registry.touched, later);
                    due.into_values().flatten().collect()
                };
                let db = &self.db;
                if !registry.programs.is_empty() {
                    for key in touched {
                        // Committed state only: the notification says this slot is durable.
                        let Ok(Some(account)) = db.get_committed(&key) else {
                            continue;
                        };
                        registry.programs.retain(|watch| {
                            if watch.program != account.owner
                                || !matches_filters(&watch.filters, &account)
                            {
                                return true;
                            }
                            let Ok(encoded) = encode_account(&account, &watch.config, db) else {
                                return true;
                            };
                            deliver(
                                &watch.watch,
                                Notice {
                                    result: json!({
                                        "context": { "slot": slot },
                                        "value": { "pubkey": key.to_string(), "account": encoded },
                                    }),
                                    last: false,
                                },
                            )
                        });
                    }
                }
                registry.accounts.retain(|key, watches| {
                    let account = db.get_committed(key).ok().flatten();
                    let fingerprint = account.as_ref().map(fingerprint);
                    watches.retain_mut(|watch| {
                        if watch.fingerprint == fingerprint {
                            return true;
                        }
                        watch.fingerprint = fingerprint;
                        let deleted = Account::default();
                        let value =
                            encode_account(account.as_ref().unwrap_or(&deleted), &watch.config, db)
                                .unwrap_or(Value::Null);
                        deliver(
                            &watch.watch,
                            Notice {
                                result: json!({ "context": { "slot": slot }, "value": value }),
                                last: false,
                            },
                        )
                    });
                    !watches.is_empty()
                });
            }
        }
    }

    /// Ends every subscription: called when events came faster than this could match them
    /// and some were lost, so no subscriber can trust its stream any more. Each stream
    /// ends with an error notification; clients resubscribe.
    pub fn overflow(&self) {
        let mut registry = self.registry();
        *registry = Registry::default();
    }

    fn forget(&self, id: u64) {
        let mut registry = self.registry();
        registry.signatures.retain(|_, watches| {
            watches.retain(|watch| watch.watch.id != id);
            !watches.is_empty()
        });
        registry.accounts.retain(|_, watches| {
            watches.retain(|watch| watch.watch.id != id);
            !watches.is_empty()
        });
        registry.programs.retain(|watch| watch.watch.id != id);
        registry.logs.retain(|watch| watch.watch.id != id);
        registry.slots.retain(|watch| watch.id != id);
        registry.roots.retain(|watch| watch.id != id);
        if registry.programs.is_empty() {
            registry.touched.clear();
        }
    }

    /// How many subscriptions are open (for tests and monitoring).
    pub fn len(&self) -> usize {
        let registry = self.registry();
        let signatures: usize = registry.signatures.values().map(Vec::len).sum();
        let accounts: usize = registry.accounts.values().map(Vec::len).sum();
        signatures
            .saturating_add(accounts)
            .saturating_add(registry.programs.len())
            .saturating_add(registry.logs.len())
            .saturating_add(registry.slots.len())
            .saturating_add(registry.roots.len())
    }

    /// Whether no subscription is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn subscribe_signature(
        &self,
        params: &Params,
    ) -> Result<(u64, mpsc::Receiver<Queued>), RpcError> {
        let text: String = params.required(0, "base58 signature")?;
        let signature: Signature = text
            .parse()
            .map_err(|_| RpcError::invalid_params("Invalid Request: Invalid signature provided"))?;
        let config = params.config(1)?;
        let commitment = config.commitment.unwrap_or(Commitment::Finalized);
        let (watch, receiver) = self.watch();
        let id = watch.id;
        // Registered before the status is read, so an event in between is not missed (a
        // second final notice is harmless: the stream ends after the first).
        let mut registry = self.registry();
        let known = self
            .tracker
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(&signature);
        let reached = known.as_ref().is_some_and(|status| match commitment {
            Commitment::Processed => true,
            Commitment::Confirmed | Commitment::Finalized => {
                status.confirmation_status >= ConfirmationStatus::Confirmed
            }
        });
        if let Some(status) = known.filter(|_| reached) {
            deliver(
                &watch,
                Notice {
                    result: json!({ "context": { "slot": status.slot }, "value": { "err": status.err } }),
                    last: true,
                },
            );
        } else {
            registry
                .signatures
                .entry(signature)
                .or_default()
                .push(SignatureWatch {
                    watch,
                    commitment,
                    received: config.enable_received_notification,
                    outcome: None,
                });
        }
        Ok((id, receiver))
    }

    fn subscribe_account(
        &self,
        params: &Params,
    ) -> Result<(u64, mpsc::Receiver<Queued>), RpcError> {
        let key = params
            .pubkey(0)
            .map_err(|_| RpcError::invalid_params("Invalid Request: Invalid pubkey provided"))?;
        let config = params.config(1)?;
        // Validates the encoding now rather than at the first notification.
        encode_account(&Account::default(), &config, &self.db)?;
        let fingerprint = self
            .db
            .get_committed(&key)
            .ok()
            .flatten()
            .as_ref()
            .map(fingerprint);
        let (watch, receiver) = self.watch();
        let id = watch.id;
        self.registry()
            .accounts
            .entry(key)
            .or_default()
            .push(AccountWatch {
                watch,
                config,
                fingerprint,
            });
        Ok((id, receiver))
    }

    fn subscribe_program(
        &self,
        params: &Params,
    ) -> Result<(u64, mpsc::Receiver<Queued>), RpcError> {
        let program = params
            .pubkey(0)
            .map_err(|_| RpcError::invalid_params("Invalid Request: Invalid pubkey provided"))?;
        let config = params.config(1)?;
        encode_account(&Account::default(), &config, &self.db)?;
        let filters = compile_filters(&config)?;
        let (watch, receiver) = self.watch();
        let id = watch.id;
        self.registry().programs.push(ProgramWatch {
            watch,
            program,
            config,
            filters,
        });
        Ok((id, receiver))
    }

    fn subscribe_logs(&self, params: &Params) -> Result<(u64, mpsc::Receiver<Queued>), RpcError> {
        let filter = match params.0.first() {
            Some(Value::String(text)) if text == "all" || text == "allWithVotes" => LogsFilter::All,
            Some(Value::Object(object)) => match object.get("mentions") {
                Some(Value::Array(keys)) if keys.len() == 1 => {
                    let key = keys[0]
                        .as_str()
                        .and_then(|text| text.parse().ok())
                        .ok_or_else(|| {
                            RpcError::invalid_params("Invalid Request: Invalid pubkey provided")
                        })?;
                    LogsFilter::Mentions(key)
                }
                Some(Value::Array(_)) => {
                    return Err(RpcError::invalid_params(
                        "Invalid Request: Only 1 address supported",
                    ));
                }
                _ => {
                    return Err(RpcError::invalid_params(
                        "Invalid params: expected \"all\", \"allWithVotes\" or {\"mentions\": [address]}",
                    ));
                }
            },
            _ => {
                return Err(RpcError::invalid_params(
                    "Invalid params: expected \"all\", \"allWithVotes\" or {\"mentions\": [address]}",
                ));
            }
        };
        let commitment = params
            .config(1)?
            .commitment
            .unwrap_or(Commitment::Finalized);
        let (watch, receiver) = self.watch();
        let id = watch.id;
        self.registry().logs.push(LogsWatch {
            watch,
            filter,
            commitment,
            waiting: Vec::new(),
        });
        Ok((id, receiver))
    }

    fn subscribe_slots(&self, roots: bool) -> (u64, mpsc::Receiver<Queued>) {
        let (watch, receiver) = self.watch();
        let id = watch.id;
        let mut registry = self.registry();
        if roots {
            registry.roots.push(watch);
        } else {
            registry.slots.push(watch);
        }
        (id, receiver)
    }
}

/// Queues `notice`; `false` once the subscription is gone or too slow (drop it).
fn deliver(watch: &Watch, notice: Notice) -> bool {
    let Ok(message) = serde_json::value::to_raw_value(&notice.result) else {
        return false;
    };
    let bytes = message.get().len();
    let queued = watch.queued.fetch_add(bytes, Ordering::AcqRel);
    // Counted first, so the charge given back on any failure below balances it.
    let charge = Charge {
        queued: Arc::clone(&watch.queued),
        bytes,
    };
    if queued.saturating_add(bytes) > NOTIFICATION_BYTES_QUEUED_MAX {
        return false;
    }
    watch
        .queue
        .try_send(Queued {
            message,
            last: notice.last,
            _charge: charge,
        })
        .is_ok()
}

/// A change detector for an account: equal accounts give equal values.
fn fingerprint(account: &Account) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    account.lamports.hash(&mut hasher);
    account.owner.hash(&mut hasher);
    account.executable.hash(&mut hasher);
    account.data.hash(&mut hasher);
    hasher.finish()
}

/// Moves notices from the queue to the WebSocket until the last one, the client leaves, or
/// it falls behind.
async fn forward(
    sink: &mut SubscriptionSink,
    receiver: &mut mpsc::Receiver<Queued>,
) -> Result<(), SubscriptionError> {
    loop {
        // Only a few messages wait in the connection's own buffer (which counts messages,
        // not bytes); the rest wait here, in the subscription's byte-bounded queue, which
        // drops the subscriber once it is full.
        while sink.max_capacity().saturating_sub(sink.capacity()) >= CONNECTION_MESSAGES_WAITING_MAX
        {
            tokio::select! {
                () = sink.closed() => return Ok(()),
                () = tokio::time::sleep(FORWARD_RETRY_INTERVAL) => {}
            }
        }
        tokio::select! {
            () = sink.closed() => return Ok(()),
            queued = receiver.recv() => {
                let Some(Queued { message, last, _charge }) = queued else {
                    return Err(TOO_SLOW.into());
                };
                match sink.try_send(message) {
                    Ok(()) if last => return Ok(()),
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => return Err(TOO_SLOW.into()),
                    Err(TrySendError::Closed(_)) => return Ok(()),
                }
            }
        }
    }
}

/// Accepts a subscription whose registration `subscribe` attempted, and serves it.
async fn run(
    pending: PendingSubscriptionSink,
    pubsub: Arc<PubSub>,
    subscribed: Result<(u64, mpsc::Receiver<Queued>), RpcError>,
) -> Result<(), SubscriptionError> {
    let (id, mut receiver) = match subscribed {
        Ok(subscribed) => subscribed,
        Err(error) => {
            pending.reject(ErrorObjectOwned::from(error)).await;
            return Ok(());
        }
    };
    let result = match pending.accept().await {
        Ok(mut sink) => forward(&mut sink, &mut receiver).await,
        Err(_) => Ok(()),
    };
    pubsub.forget(id);
    result
}

/// How a subscription method registers its watch.
type Subscribe = fn(&PubSub, &Params) -> Result<(u64, mpsc::Receiver<Queued>), RpcError>;

/// Registers one subscription method (`[subscribe, notification, unsubscribe]` names).
fn add(
    module: &mut RpcModule<RpcState>,
    pubsub: &Arc<PubSub>,
    [subscribe, notification, unsubscribe]: [&'static str; 3],
    watch: Subscribe,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let shared = Arc::clone(pubsub);
    module.register_subscription(
        subscribe,
        notification,
        unsubscribe,
        move |params, pending, _, _| {
            let pubsub = Arc::clone(&shared);
            let subscribed = positional(&params).and_then(|params| watch(&pubsub, &Params(params)));
            run(pending, pubsub, subscribed)
        },
    )?;
    Ok(())
}

/// Registers the subscription methods on `module`.
pub fn register(
    module: &mut RpcModule<RpcState>,
    pubsub: Arc<PubSub>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let methods: [([&'static str; 3], Subscribe); 6] = [
        (
            [
                "signatureSubscribe",
                "signatureNotification",
                "signatureUnsubscribe",
            ],
            |pubsub, params| pubsub.subscribe_signature(params),
        ),
        (
            [
                "accountSubscribe",
                "accountNotification",
                "accountUnsubscribe",
            ],
            |pubsub, params| pubsub.subscribe_account(params),
        ),
        (
            [
                "programSubscribe",
                "programNotification",
                "programUnsubscribe",
            ],
            |pubsub, params| pubsub.subscribe_program(params),
        ),
        (
            ["logsSubscribe", "logsNotification", "logsUnsubscribe"],
            |pubsub, params| pubsub.subscribe_logs(params),
        ),
        (
            ["slotSubscribe", "slotNotification", "slotUnsubscribe"],
            |pubsub, _| Ok(pubsub.subscribe_slots(false)),
        ),
        (
            ["rootSubscribe", "rootNotification", "rootUnsubscribe"],
            |pubsub, _| Ok(pubsub.subscribe_slots(true)),
        ),
    ];
    for (names, watch) in methods {
        add(module, &pubsub, names, watch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_ledger::bank::{CommitCost, SlotCommit};
    use braid_runtime::Hash;

    fn pubsub() -> PubSub {
        PubSub::new(
            Arc::new(Mutex::new(StatusTracker::new(16, Hash::default()))),
            Arc::new(AccountsDb::in_memory()),
        )
    }

    fn committed(slot: u64) -> ExecutionEvent {
        ExecutionEvent::SlotCommitted(SlotCommit {
            slot,
            bank_hash: Hash::default(),
            state_hash: Hash::default(),
            signatures: Vec::new(),
            ledger_offset: None,
            block_time: None,
            cost: CommitCost::default(),
        })
    }

    #[test]
    fn a_subscriber_that_never_reads_is_dropped_not_waited_for() {
        let pubsub = pubsub();
        let (_, mut receiver) = pubsub.subscribe_slots(false);
        for slot in 1..=NOTIFICATIONS_QUEUED_MAX as u64 {
            pubsub.on_event(&committed(slot));
        }
        assert_eq!(pubsub.len(), 1, "a full queue is still a subscription");
        pubsub.on_event(&committed(NOTIFICATIONS_QUEUED_MAX as u64 + 1));
        assert!(pubsub.is_empty(), "one more and it is dropped");
        // What was queued is still there for it, in order, and then the stream ends.
        let first = receiver.try_recv().unwrap();
        assert_eq!(first.message.get(), r#"{"parent":0,"root":1,"slot":1}"#);
    }

    #[test]
    fn a_large_account_cannot_pile_up_past_the_byte_budget() {
        let db = Arc::new(AccountsDb::in_memory());
        let pubsub = PubSub::new(
            Arc::new(Mutex::new(StatusTracker::new(16, Hash::default()))),
            Arc::clone(&db),
        );
        let key = Pubkey::new_from_array([9; 32]);
        let (_, _receiver) = pubsub
            .subscribe_account(&Params(vec![json!(key.to_string())]))
            .unwrap();
        // Each slot changes the 4 MiB account (5.6 MB of base64): the 32 MiB budget holds
        // five notifications, and the sixth drops the subscriber.
        for slot in 1..=6u64 {
            let account = Account::with_data(slot, vec![slot as u8; 4 << 20], &Pubkey::default());
            db.store(slot, &[(key, account)]).unwrap();
            db.commit(slot, Hash::default()).unwrap();
            pubsub.on_event(&committed(slot));
            assert_eq!(pubsub.len(), usize::from(slot < 6), "after slot {slot}");
        }
    }

    #[test]
    fn overflow_ends_every_subscription() {
        let pubsub = pubsub();
        let (_, mut slots) = pubsub.subscribe_slots(false);
        let (_, _roots) = pubsub.subscribe_slots(true);
        assert_eq!(pubsub.len(), 2);
        pubsub.overflow();
        assert!(pubsub.is_empty());
        assert!(matches!(
            slots.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
    }
}
