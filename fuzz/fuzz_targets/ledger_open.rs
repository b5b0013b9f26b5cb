//! Any bytes as a ledger's block file: opening it never panics; it either yields blocks
//! (after cutting a torn tail) or a typed error, and what it yields reopens identically.

#![no_main]

use braid_ledger::blockstore::{LEDGER_FILE_NAME, Ledger};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join(LEDGER_FILE_NAME), data).expect("write the ledger file");
    let Ok((ledger, blocks)) = Ledger::open(dir.path()) else {
        return;
    };
    drop(ledger);
    let (_, again) = Ledger::open(dir.path()).expect("a ledger that opened reopens");
    assert_eq!(blocks, again);
});
