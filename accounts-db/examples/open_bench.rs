//! Measures open() (recovery) time, resident memory and index bytes per account for N
//! token-sized (165-byte) accounts.
//!
//! ```text
//! cargo run --release -p braid-accounts-db --example open_bench -- 1000000 [dir]
//! ```
#![allow(clippy::arithmetic_side_effects)]

use std::time::Instant;

use braid_accounts_db::{AccountsDb, Options};
use braid_primitives::{Account, Hash, Pubkey};

fn key(index: u64) -> Pubkey {
    let mut bytes = [0u8; 32];
    let digest = blake3::hash(&index.to_le_bytes());
    bytes.copy_from_slice(digest.as_bytes());
    Pubkey(bytes)
}

/// `VmRSS` and `RssAnon` from /proc/self/status, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().map_or(Ok(1_000_000), |arg| arg.parse())?;
    let temp = tempfile::tempdir()?;
    let dir = args
        .next()
        .map_or_else(|| temp.path().to_path_buf(), Into::into);
    let owner = Pubkey([6; 32]);
    {
        let (db, recovered) = AccountsDb::open(&dir, Options::default())?;
        if recovered.sequence == 0 {
            let start = Instant::now();
            let per_slot = 100_000u64;
            let mut slot = 0;
            let mut next = 0;
            while next < count {
                slot += 1;
                let end = (next + per_slot).min(count);
                for index in next..end {
                    db.put(
                        slot,
                        key(index),
                        Account::with_data(
                            1_000_000 + index,
                            vec![(index & 0xff) as u8; 165],
                            &owner,
                        ),
                    )?;
                }
                db.commit(slot, Hash([slot as u8; 32]))?;
                next = end;
            }
            println!(
                "populate: {count} accounts in {slot} slots, {:?}",
                start.elapsed()
            );
        }
    }
    let (rss_before, anon_before) = rss_kib();
    let start = Instant::now();
    let (db, recovered) = AccountsDb::open(&dir, Options::default())?;
    let elapsed = start.elapsed();
    let (rss_after, anon_after) = rss_kib();
    let stats = db.stats();
    println!(
        "open: {elapsed:?} (slot {}, {} accounts)",
        recovered.slot, stats.accounts
    );
    println!(
        "rss: {} MiB total after open ({} MiB before), anonymous {} MiB (+{} MiB)",
        rss_after / 1024,
        rss_before / 1024,
        anon_after / 1024,
        anon_after.saturating_sub(anon_before) / 1024
    );
    println!(
        "index: {} bytes, {:.1} bytes/account, {:.1} bytes/account beyond the 32-byte key; \
         anonymous RSS growth {:.1} bytes/account",
        stats.index_bytes,
        stats.index_bytes as f64 / stats.accounts as f64,
        stats.index_bytes as f64 / stats.accounts as f64 - 32.0,
        (anon_after.saturating_sub(anon_before) * 1024) as f64 / stats.accounts as f64,
    );
    println!(
        "disk: {} bytes, live {} bytes",
        stats.disk_bytes, stats.live_bytes
    );
    // Sanity: a read of the last account.
    let last = db.get(&key(count - 1)).ok_or("missing account")?;
    assert_eq!(last.lamports, 1_000_000 + count - 1);

    // Commit latency: 200 slots of 10 000 token-account writes each, fsync on.
    let mut latencies = Vec::new();
    let start = Instant::now();
    let mut slot = recovered.slot;
    let mut state = 1u64;
    for _ in 0..200 {
        slot += 1;
        for _ in 0..10_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let index = (state >> 33) % count;
            db.put(
                slot,
                key(index),
                Account::with_data(index + 7, vec![slot as u8; 165], &owner),
            )?;
        }
        let commit_start = Instant::now();
        db.commit(slot, Hash([slot as u8; 32]))?;
        latencies.push(commit_start.elapsed());
    }
    let total = start.elapsed();
    latencies.sort();
    println!(
        "store+commit 10k/slot x 200: {:.0} accounts/s; commit latency p50 {:?}, p99 {:?}, max {:?}",
        2_000_000.0 / total.as_secs_f64(),
        latencies[100],
        latencies[198],
        latencies[199]
    );
    let report = db.compact()?;
    println!("compaction after the run: {report:?}");
    Ok(())
}
