//! Braid's runtime: the transaction model, the native program interface, the executor
//! and an in-process harness.
//!
//! Read it in this order:
//!
//! - Wire format: [`short_vec`] lengths, [`message`], [`transaction`], [`keypair`]
//!   (addresses, hashes, signatures and accounts are `braid-primitives`' types, re-exported
//!   here as [`primitives`]); [`sanitized`] checks every structural rule once and exposes the declared
//!   lock set; [`address_lookup_table`] resolves a v0 message's lookups; [`sigverify`]
//!   verifies signatures, batched.
//! - Programs: [`instruction`] is what clients build; [`program`] is the trait a crate
//!   implements to become a native program; [`invoke_context`] is all a program sees while it
//!   runs, and where the runtime rules and cross-program calls live; [`pda`] derives program
//!   addresses; [`compute_budget`] reads compute limits and priority fees;
//!   [`custom_error`] turns a program's error enum into `Custom` codes and back.
//! - Execution: [`account_source`] is the narrow trait through which the executor reads
//!   state (the runtime never sees a database: whoever stores accounts implements it); [`executor`] runs transactions and reports their writes (and, if asked,
//!   their [`balances`]); [`fee`] prices them; [`rent`] says what an account must hold;
//!   [`blockhash_queue`] and [`status_cache`] reject stale and replayed transactions;
//!   [`state_hash`] folds accounts into an order-independent hash.
//! - [`harness`]: a whole single-node chain in memory, for testing programs.

pub mod account_source;
pub mod address_lookup_table;
pub mod balances;
pub mod blockhash_queue;
pub mod compute_budget;
pub mod cost_model;
pub mod custom_error;
pub mod error;
pub mod executor;
pub mod fee;
pub mod harness;
pub mod instruction;
pub mod invoke_context;
pub mod keypair;
pub mod message;
pub mod pda;
pub mod program;
pub mod rent;
pub mod sanitized;
pub mod short_vec;
pub mod sigverify;
pub mod state_hash;
pub mod status_cache;
pub mod transaction;

pub use braid_primitives as primitives;
pub use braid_primitives::{Account, Hash, Pubkey, Signature};
pub use error::{InstructionError, TransactionError};
pub use instruction::{AccountMeta, Instruction};
pub use message::{CompiledInstruction, Message, MessageAddressTableLookup, MessageHeader};
pub use sanitized::SanitizeError;
pub use transaction::Transaction;

/// The System program's id; the runtime needs it to check fee payers.
pub const SYSTEM_PROGRAM_ID: Pubkey = Pubkey::from_str_const("11111111111111111111111111111111");
/// The id that owns native program accounts.
pub const NATIVE_LOADER_ID: Pubkey =
    Pubkey::from_str_const("NativeLoader1111111111111111111111111111111");
