//! Crash test with real processes: a child commits slots in a loop (with background
//! compaction) and is killed with SIGKILL at random moments; every reopen must equal the
//! deterministic model for the last slot the child acknowledged, or a later one.
#![allow(clippy::arithmetic_side_effects)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use braid_accounts_db::{AccountsDb, Options};

const CHILD_DIR_ENV: &str = "BRAID_ACCOUNTS_DB_CRASH_CHILD_DIR";
const CYCLES: u64 = 100;

fn options() -> Options {
    Options {
        segment_bytes: 64 * 1024,
        compaction_live_percent: 60,
        background_compaction: Some(Duration::from_millis(3)),
        ..Options::default()
    }
}

/// The child: commits forever in the directory the parent names in the environment.
/// Ignored, so a plain test run does not count it as a pass; the parent runs it with
/// `--ignored`.
#[test]
#[ignore = "the child process of sigkill_at_random_moments_keeps_every_acknowledged_commit"]
fn crash_child() {
    let dir = std::env::var(CHILD_DIR_ENV).unwrap_or_else(|_| {
        panic!("crash_child is run by sigkill_at_random_moments_keeps_every_acknowledged_commit")
    });
    let (db, recovered) = AccountsDb::open(&dir, options()).expect("child open");
    let mut stdout = std::io::stdout().lock();
    let mut slot = if recovered.sequence == 0 {
        0
    } else {
        recovered.slot
    };
    loop {
        slot += 1;
        db.store(slot, &common::writes_for_slot(slot))
            .expect("store");
        db.commit(slot, common::state_hash(slot)).expect("commit");
        writeln!(stdout, "ACK {slot}").expect("print");
        stdout.flush().expect("flush");
        if slot % 7 == 0 {
            db.compact().expect("compact");
        }
    }
}

#[test]
fn sigkill_at_random_moments_keeps_every_acknowledged_commit() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut model = BTreeMap::new();
    let mut model_slot = 0u64;
    let mut previous_slot = 0u64;
    let mut random = common::mix(0x5eed ^ u64::from(std::process::id()));
    let start = Instant::now();
    for cycle in 0..CYCLES {
        random = common::mix(random);
        // Startup (exec + open) takes a few ms; kill anywhere from mid-open to mid-run.
        let delay = Duration::from_micros(1_000 + random % 60_000);
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest prints "test crash_child ... " without a newline before the first ACK.
                if let Some((_, slot)) = line.split_once("ACK ") {
                    last = Some(slot.parse::<u64>().unwrap());
                }
            }
            last
        });
        std::thread::sleep(delay);
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            panic!("child exited by itself ({status}): {stderr}");
        }
        child.kill().unwrap(); // SIGKILL on unix
        child.wait().unwrap();
        let acknowledged = reader.join().unwrap().unwrap_or(0);

        let (db, recovered) = AccountsDb::open(dir.path(), Options::default())
            .unwrap_or_else(|error| panic!("cycle {cycle}: open failed: {error}"));
        let slot = if recovered.sequence == 0 {
            0
        } else {
            recovered.slot
        };
        assert!(
            slot >= acknowledged,
            "cycle {cycle}: recovered slot {slot} < acknowledged {acknowledged}"
        );
        assert!(
            slot >= previous_slot,
            "cycle {cycle}: went back from {previous_slot} to {slot}"
        );
        let started_max = acknowledged.max(previous_slot) + 1;
        assert!(
            slot <= started_max,
            "cycle {cycle}: slot {slot} was never started"
        );
        while model_slot < slot {
            model_slot += 1;
            common::apply(&mut model, &common::writes_for_slot(model_slot));
        }
        if slot > 0 {
            assert_eq!(recovered.state_hash, common::state_hash(slot));
        }
        assert_eq!(
            common::committed(&db),
            model,
            "cycle {cycle}: contents differ at slot {slot}"
        );
        for (key, account) in model.iter().take(20) {
            assert_eq!(db.get(key).as_ref(), Some(account));
        }
        previous_slot = slot;
    }
    eprintln!(
        "{CYCLES} kill cycles reached slot {previous_slot} in {:?}",
        start.elapsed()
    );
    assert!(
        previous_slot > 20,
        "the child made too little progress to test anything"
    );
}
