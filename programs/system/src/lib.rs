//! Solana's System program as a native Braid program.
//!
//! Same id, same bincode instruction encoding (a `u32` variant tag, fixed-width
//! little-endian integers, `u64`-prefixed strings) and the same checks, so instructions built
//! by Solana's client libraries run unchanged. Nonce accounts are not supported: their
//! instructions fail with `InvalidInstructionData`.
//!
//! - [`instruction`]: the instruction enum and client-side builders.
//! - [`cpi`]: helpers for programs that create accounts through this one.
//! - [`error`]: the program's error codes.
//! - [`processor`]: the program itself, [`SystemProgram`].

pub mod cpi;
pub mod error;
pub mod instruction;
pub mod processor;

pub use braid_runtime::SYSTEM_PROGRAM_ID as ID;
pub use error::SystemError;
pub use instruction::SystemInstruction;
pub use processor::{SYSTEM_INSTRUCTION_UNITS, SystemProgram};
