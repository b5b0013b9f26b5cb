//! A node whose disk fills up reports it and survives: `braid node` runs as a child on a
//! small tmpfs (the test machines run as root), the test fills the disk, and the node must
//! stop taking transactions and say why, keep answering reads, keep running, and after
//! space is freed and it restarts, still hold everything it acknowledged.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use braid_primitives::Pubkey;
use braid_rpc::client::ClientError;

mod common;
use common::{CONFIRM_TIMEOUT, Node};
#[path = "../../accounts-db/tests/common/tiny_disk.rs"]
mod tiny_disk;
use tiny_disk::TinyDisk;

/// The node's first accounts segment reserves 64 MiB; the rest is ledger and headroom.
const DISK_SIZE: &str = "96m";

/// Writes a file until the disk refuses; returns its path.
fn fill(disk: &Path) -> PathBuf {
    let path = disk.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0xA5u8; 256 << 10];
    loop {
        match file.write_all(&chunk) {
            Ok(()) => {}
            Err(error) if error.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(error) => panic!("filling the disk: {error}"),
        }
    }
    // Small writes too, so not even a partial page is left.
    while file.write_all(&[0u8; 512]).is_ok() {}
    path
}

#[test]
fn a_full_disk_stops_transactions_with_a_reason_and_the_node_keeps_serving() {
    let disk = TinyDisk::mount(DISK_SIZE);
    let ledger = disk.path().join("ledger");
    let user = Pubkey::new_from_array([7; 32]);
    let mut node = Node::start(&ledger, &[]);
    node.airdrop(&user, 5_000_000_000).expect("first airdrop");

    let filler = fill(disk.path());
    // Files already own their last page and segments their reserved blocks, so the node
    // runs on until a commit needs a new block: keep sending until one does. None of these
    // transactions is acknowledged as finalized, whatever the client hears.
    let deadline = Instant::now() + CONFIRM_TIMEOUT;
    let mut sent = 0u64;
    let failure = loop {
        match node.client.call_raw("getHealth", serde_json::json!([])) {
            Err(ClientError::Rpc { code, data, .. }) => break (code, data),
            Ok(_) => {}
            Err(other) => panic!("getHealth: {other}"),
        }
        assert!(
            Instant::now() < deadline,
            "the node never reported the full disk ({sent} airdrops sent)"
        );
        if node.client.request_airdrop(&user, 1 + sent).is_ok() {
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (code, data) = failure;
    assert_eq!(code, -32005);
    let data = data.expect("getHealth says why");
    assert_eq!(data["diskFull"], true, "{data}");
    let reason = data["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("No space left on device"), "{reason}");

    // No transaction is taken, and the refusal says why.
    match node.client.request_airdrop(&user, 1) {
        Err(ClientError::Rpc { code, message, .. }) => {
            assert_eq!(code, -32005);
            assert_eq!(
                message,
                format!("the node stopped taking transactions: {reason}")
            );
        }
        other => panic!("an airdrop on a full disk answered {other:?}"),
    }
    // Reads still work, and the process is alive a while later.
    let balance = node.client.get_balance(&user).unwrap();
    assert!(balance >= 5_000_000_000);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(node.client.get_balance(&user).unwrap(), balance);
    assert!(node.alive(), "the node exited");
    let stderr = node.kill();
    assert!(
        stderr.contains("the node stopped taking transactions:")
            && stderr.contains("free disk space, then restart it"),
        "{stderr}"
    );

    // Space freed, restarted: what was acknowledged is there, and transactions flow again.
    std::fs::remove_file(filler).unwrap();
    let node = Node::start(&ledger, &[]);
    let recovered = node.client.get_balance(&user).unwrap();
    assert!(
        // Reads on a stopped node show committed state only, so nothing it showed is lost
        // (the failed slot may still replay from the ledger, which only adds).
        recovered >= balance && balance >= 5_000_000_000,
        "acknowledged 5000000000, saw {balance} before the restart, {recovered} after"
    );
    node.airdrop(&user, 1)
        .expect("an airdrop after the restart");
    assert_eq!(node.client.get_balance(&user).unwrap(), recovered + 1);
    node.kill();
}
