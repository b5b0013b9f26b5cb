//! The programs every Braid node runs, listed once.
//!
//! A ledger can only be replayed with the programs it was written with, so the node, the
//! ledger verifier, the load generator and the CLI all take their programs from
//! [`registry`]; tests and the harness use it too
//! (`Harness::new().add_programs(&braid_builtins::registry())`).

use braid_runtime::program::ProgramRegistry;

/// System, SPL Token, Associated Token Account, Memo (v1 and v2), Address Lookup Table, the
/// counter example, and
/// the oracle, AMM, lending and insurance programs (plus the Compute Budget program every
/// registry has).
pub fn registry() -> ProgramRegistry {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    programs.add(braid_program_token::TokenProgram);
    programs.add(braid_program_associated_token::AssociatedTokenProgram);
    programs.add(braid_program_memo::MemoProgram::V2);
    programs.add(braid_program_memo::MemoProgram::V1);
    programs.add(braid_program_address_lookup_table::AddressLookupTableProgram);
    programs.add(braid_program_counter::CounterProgram);
    programs.add(braid_program_oracle::OracleProgram);
    programs.add(braid_program_amm::AmmProgram);
    programs.add(braid_program_lending::LendingProgram);
    programs.add(braid_program_insurance::InsuranceProgram);
    programs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_is_registered_under_its_id() {
        let registry = registry();
        for id in [
            braid_program_system::ID,
            braid_program_token::ID,
            braid_program_associated_token::ID,
            braid_program_memo::ID,
            braid_program_memo::ID_V1,
            braid_runtime::address_lookup_table::ID,
            braid_program_counter::ID,
            braid_program_oracle::ID,
            braid_program_amm::ID,
            braid_program_lending::ID,
            braid_program_insurance::ID,
            braid_runtime::compute_budget::ID,
        ] {
            assert!(registry.contains(&id), "{id} missing");
        }
        assert_eq!(registry.ids().len(), 12);
    }
}
