//! Any bytes as a ledger's block file: opening it never panics; it either yields blocks
//! (after cutting a torn tail) or a typed error, and what it yields reopens identically.
//! The same bytes as a block payload: decoding never panics, and what decodes re-encodes
//! to the same bytes (records are checksummed, so only this reaches the decoder with
//! arbitrary payloads).

#![no_main]

use braid_ledger::blockstore::{Block, LEDGER_FILE_NAME, Ledger};
use libfuzzer_sys::fuzz_target;

/// A fresh temporary directory, in memory where the machine has a tmpfs (fsync is free).
fn temp_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().expect("temporary directory")
}

fuzz_target!(|data: &[u8]| {
    if let Some(block) = Block::decode(data) {
        let again = Block::decode(&block.encode().expect("a decoded block encodes"));
        assert_eq!(again.as_ref(), Some(&block));
    }
    let dir = temp_dir();
    std::fs::write(dir.path().join(LEDGER_FILE_NAME), data).expect("write the ledger file");
    let Ok((ledger, blocks)) = Ledger::open(dir.path()) else {
        return;
    };
    drop(ledger);
    let (_, again) = Ledger::open(dir.path()).expect("a ledger that opened reopens");
    assert_eq!(blocks, again);
});
