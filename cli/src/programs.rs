//! The programs a `braid` node (and `braid ledger verify`) runs.
//!
//! This is the single place programs are registered: a ledger can only be replayed with
//! the programs it was written with, so the node and the verifier must agree.

use braid_runtime::program::ProgramRegistry;

/// The node's program registry: system, token, counter and the DeFi programs.
pub fn programs() -> ProgramRegistry {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    programs.add(braid_program_token::TokenProgram);
    programs.add(braid_program_counter::CounterProgram);
    programs.add(braid_program_oracle::OracleProgram);
    programs.add(braid_program_amm::AmmProgram);
    programs.add(braid_program_lending::LendingProgram);
    programs.add(braid_program_insurance::InsuranceProgram);
    programs
}
