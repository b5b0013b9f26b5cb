//! What the node remembers about recent transactions and blockhashes, fed by the pipeline's
//! event stream.
//!
//! The signature map is bounded: past its capacity the oldest signature is forgotten (its
//! status then reads as unknown, as an expired entry does on Solana). A transaction becomes
//! `finalized` only when the event for its slot's durable commit arrives, never earlier.

use std::collections::{HashMap, VecDeque};

use braid_runtime::blockhash_queue::RECENT_BLOCKHASHES_MAX;
use braid_runtime::{Hash, Signature, TransactionError};

use crate::types::{ConfirmationStatus, RpcSignatureStatus};
use braid_interfaces::ExecutionEvent;

/// Signatures remembered by default (about 100 bytes each).
pub const STATUS_CAPACITY_DEFAULT: usize = 1 << 18;

#[derive(Debug, Clone)]
struct Status {
    slot: u64,
    err: Option<TransactionError>,
    committed: bool,
}

/// Recent statuses and blockhashes.
#[derive(Debug)]
pub struct StatusTracker {
    statuses: HashMap<Signature, Status>,
    /// Insertion order, for eviction.
    order: VecDeque<Signature>,
    capacity: usize,
    /// Blockhashes that became valid since the node started, newest last.
    blockhashes: VecDeque<Hash>,
    /// The last committed slot's bank hash: a recent blockhash only once the next slot is
    /// sealed, as the bank decides (so it joins `blockhashes` at the next commit).
    unregistered: Option<Hash>,
}

/// Whether a blockhash can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockhashValidity {
    /// It is one of the recent blockhashes.
    Valid,
    /// It is certainly too old or unknown.
    Invalid,
    /// The node has not seen enough slots since it started to tell (the bank decides).
    Unknown,
}

impl StatusTracker {
    /// A tracker remembering up to `capacity` signatures; `latest` is the blockhash the node
    /// started with.
    pub fn new(capacity: usize, latest: Hash) -> Self {
        Self {
            statuses: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            blockhashes: VecDeque::from([latest]),
            unregistered: None,
        }
    }

    /// Applies one pipeline event.
    pub fn apply(&mut self, event: &ExecutionEvent) {
        match event {
            ExecutionEvent::Processed {
                signature,
                slot,
                status,
                ..
            } => {
                let err = status.as_ref().err().cloned();
                let fresh = Status {
                    slot: *slot,
                    err,
                    committed: false,
                };
                if self.statuses.insert(*signature, fresh).is_none() {
                    self.order.push_back(*signature);
                    while self.order.len() > self.capacity {
                        if let Some(oldest) = self.order.pop_front() {
                            self.statuses.remove(&oldest);
                        }
                    }
                }
            }
            // A refused transaction never reaches a block: like Solana, its status stays
            // unknown; sendTransaction's preflight reports most refusals synchronously.
            ExecutionEvent::Rejected { .. } => {}
            ExecutionEvent::SlotCommitted(commit) => {
                for signature in &commit.signatures {
                    if let Some(status) = self.statuses.get_mut(signature) {
                        status.committed = true;
                    }
                }
                // The bank made the previous slot's hash recent when it sealed this one.
                if let Some(previous) = self.unregistered.replace(commit.bank_hash) {
                    self.blockhashes.push_back(previous);
                }
                while self.blockhashes.len() > RECENT_BLOCKHASHES_MAX {
                    self.blockhashes.pop_front();
                }
            }
        }
    }

    /// The status of `signature`, if remembered.
    pub fn get(&self, signature: &Signature) -> Option<RpcSignatureStatus> {
        self.statuses
            .get(signature)
            .map(|status| RpcSignatureStatus {
                slot: status.slot,
                confirmations: if status.committed { None } else { Some(0) },
                err: status.err.clone(),
                confirmation_status: if status.committed {
                    ConfirmationStatus::Finalized
                } else {
                    ConfirmationStatus::Processed
                },
            })
    }

    /// Whether `blockhash` is still usable, as far as this node has seen.
    pub fn blockhash_validity(&self, blockhash: &Hash) -> BlockhashValidity {
        if self.blockhashes.contains(blockhash) {
            BlockhashValidity::Valid
        } else if self.blockhashes.len() >= RECENT_BLOCKHASHES_MAX {
            BlockhashValidity::Invalid
        } else {
            // Blockhashes from before a restart may still be valid: only the bank knows.
            BlockhashValidity::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_ledger::bank::SlotCommit;

    fn signature(n: u8) -> Signature {
        Signature([n; 64])
    }

    #[test]
    fn processed_then_finalized_and_evicts_oldest() {
        let mut tracker = StatusTracker::new(2, Hash::default());
        for n in 1..=3 {
            tracker.apply(&ExecutionEvent::Processed {
                signature: signature(n),
                slot: 7,
                status: Ok(()),
                logs: Vec::new(),
                account_keys: Vec::new(),
            });
        }
        assert!(tracker.get(&signature(1)).is_none(), "oldest is evicted");
        assert_eq!(
            tracker.get(&signature(2)).map(|s| s.confirmation_status),
            Some(ConfirmationStatus::Processed)
        );
        let commit = SlotCommit {
            slot: 7,
            bank_hash: Hash::new_from_array([9; 32]),
            state_hash: Hash::default(),
            signatures: vec![signature(2)],
            ledger_offset: None,
            block_time: None,
            cost: Default::default(),
        };
        tracker.apply(&ExecutionEvent::SlotCommitted(commit.clone()));
        // As in the bank, a slot's hash is recent only once the next slot is sealed, which
        // the tracker learns when that slot commits.
        assert_eq!(
            tracker.blockhash_validity(&Hash::new_from_array([9; 32])),
            BlockhashValidity::Unknown
        );
        tracker.apply(&ExecutionEvent::SlotCommitted(SlotCommit {
            slot: 8,
            bank_hash: Hash::new_from_array([10; 32]),
            signatures: Vec::new(),
            ..commit
        }));
        let status = tracker.get(&signature(2)).unwrap();
        assert_eq!(
            (status.confirmation_status, status.confirmations),
            (ConfirmationStatus::Finalized, None)
        );
        assert_eq!(
            tracker.get(&signature(3)).unwrap().confirmation_status,
            ConfirmationStatus::Processed
        );
        assert_eq!(
            tracker.blockhash_validity(&Hash::new_from_array([9; 32])),
            BlockhashValidity::Valid
        );
        assert_eq!(
            tracker.blockhash_validity(&Hash::new_from_array([8; 32])),
            BlockhashValidity::Unknown
        );
    }
}
