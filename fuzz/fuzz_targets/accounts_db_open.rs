//! A committed accounts database with arbitrary bytes written over one of its files at an
//! arbitrary offset: opening it never panics. It either recovers a committed state (and
//! then every account it lists reads back) or reports a typed error.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use braid_accounts_db::{AccountsDb, Options};
use braid_primitives::{Account, Hash, Pubkey};
use libfuzzer_sys::fuzz_target;

fn options() -> Options {
    Options {
        segment_bytes: 4_096,
        ..Options::default()
    }
}

/// A fresh temporary directory, in memory where the machine has a tmpfs: the database's
/// fsyncs then cost nothing, and the fuzzer runs many times faster.
fn temp_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().expect("temporary directory")
}

/// The committed database every input damages, built once: (file name, bytes), sorted.
fn template() -> &'static [(PathBuf, Vec<u8>)] {
    static TEMPLATE: OnceLock<Vec<(PathBuf, Vec<u8>)>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = temp_dir();
        {
            let (db, _) = AccountsDb::open(dir.path(), options()).expect("a new database");
            for slot in 1..=3u64 {
                let writes: Vec<(Pubkey, Account)> = (0..4u8)
                    .map(|i| {
                        (
                            Pubkey::new_from_array([i.wrapping_mul(61).wrapping_add(slot as u8); 32]),
                            Account::new(slot, usize::from(i) * 50, &Pubkey::default()),
                        )
                    })
                    .collect();
                db.store(slot, &writes).expect("store");
                db.commit(slot, Hash::new_from_array([slot as u8; 32])).expect("commit");
            }
        }
        let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|entry| {
                let path = entry.expect("entry").path();
                let bytes = std::fs::read(&path).expect("read");
                (PathBuf::from(path.file_name().expect("a file name")), bytes)
            })
            .collect();
        files.sort();
        files
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let files = template();
    let dir = temp_dir();
    let target = usize::from(selector) % files.len();
    // The first eight bytes say where to write; the rest is what to write.
    let (offset, patch) = rest.split_at(rest.len().min(8));
    let mut word = [0u8; 8];
    word[..offset.len()].copy_from_slice(offset);
    for (index, (name, bytes)) in files.iter().enumerate() {
        let mut bytes = bytes.clone();
        if index == target {
            let at = (u64::from_le_bytes(word) % (bytes.len() as u64 + 1)) as usize;
            let end = (at + patch.len()).min(bytes.len());
            bytes[at..end].copy_from_slice(&patch[..end - at]);
        }
        std::fs::write(dir.path().join(name), &bytes).expect("write");
    }
    if let Ok((db, _)) = AccountsDb::open(dir.path(), options()) {
        db.for_each_committed(|key, account| {
            assert_eq!(db.get(key).as_ref(), Some(account));
        })
        .expect("a database that opened lists its accounts");
    }
});
