//! Helpers shared by the pipeline's integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::program::{ProgramRegistry, program_account};
use braid_runtime::{Account, Pubkey, SYSTEM_PROGRAM_ID};

/// An executor with the System program only, not collecting logs.
pub fn executor() -> Arc<Executor> {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    Arc::new(Executor::new(programs, ExecutorConfig::QUIET))
}

/// The System program's genesis account.
pub fn system_program() -> (Pubkey, Account) {
    (
        SYSTEM_PROGRAM_ID,
        program_account(&braid_program_system::SystemProgram),
    )
}
