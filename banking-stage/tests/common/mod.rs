//! Helpers shared by the pipeline's integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::program::{ProgramRegistry, program_account};
use braid_runtime::{Account, Pubkey, SYSTEM_PROGRAM_ID};

/// An executor with the System and Address Lookup Table programs, not collecting logs.
pub fn executor() -> Arc<Executor> {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    programs.add(braid_program_address_lookup_table::AddressLookupTableProgram);
    Arc::new(Executor::new(programs, ExecutorConfig::QUIET))
}

/// The System program's genesis account.
pub fn system_program() -> (Pubkey, Account) {
    (
        SYSTEM_PROGRAM_ID,
        program_account(&braid_program_system::SystemProgram),
    )
}

/// The address of the lookup table [`lookup_table`] makes.
pub const LOOKUP_TABLE: Pubkey = Pubkey::new_from_array([0x7A; 32]);

/// A genesis lookup table at [`LOOKUP_TABLE`] holding `addresses`, usable from slot 1.
pub fn lookup_table(addresses: &[Pubkey]) -> (Pubkey, Account) {
    use braid_runtime::address_lookup_table::{ID, LOOKUP_TABLE_META_BYTES, LookupTableMeta};
    let mut data = vec![0; LOOKUP_TABLE_META_BYTES];
    LookupTableMeta::new(Pubkey::new_from_array([0x7B; 32])).write(&mut data);
    for address in addresses {
        data.extend_from_slice(address.as_ref());
    }
    let lamports = braid_runtime::rent::minimum_balance(data.len() as u64);
    (
        LOOKUP_TABLE,
        Account {
            lamports,
            owner: ID,
            executable: false,
            data,
        },
    )
}
