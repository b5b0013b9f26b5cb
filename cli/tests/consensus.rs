//! Four `braid node` validators on loopback, as separate processes: they finalize the same
//! blocks (getBlock's blockhash is the bank hash) and balances; one killed with SIGKILL
//! leaves three that keep finalizing, and it catches up when restarted; two paused (no
//! quorum) stop finalization without a fork, and it resumes when they continue.
#![allow(clippy::arithmetic_side_effects)] // small counters and deadlines in test code

mod common;

use std::time::Duration;

use braid_primitives::Pubkey;
use braid_rpc::types::ConfirmationStatus;
use common::network::{DEADLINE, Network, VALIDATORS};

/// Airdrops through validator `index` and waits until it is finalized there.
fn airdrop(network: &Network, index: usize, to: &Pubkey, lamports: u64) {
    let client = network.client(index);
    let signature = client.request_airdrop(to, lamports).unwrap();
    client
        .confirm_transaction(&signature, ConfirmationStatus::Finalized, DEADLINE)
        .unwrap();
}

#[test]
fn validators_agree_and_one_killed_catches_up_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut network = Network::create(dir.path());
    let alice = Pubkey::new_from_array([0xA1; 32]);
    airdrop(&network, 0, &alice, 2_000_000_000);
    let slot = network.client(0).get_slot().unwrap();
    for index in 0..VALIDATORS {
        network.wait_for_slot(index, slot);
        assert_eq!(
            network.client(index).get_balance(&alice).unwrap(),
            2_000_000_000
        );
    }
    network.assert_agree(&[0, 1, 2, 3], slot);

    // SIGKILL one of four: the other three keep finalizing, a transfer included.
    network.nodes[3].take().unwrap().kill();
    let bob = Pubkey::new_from_array([0xB0; 32]);
    airdrop(&network, 1, &bob, 3_000_000_000);
    let later = network.client(1).get_slot().unwrap() + 3;
    for index in 0..3 {
        network.wait_for_slot(index, later);
    }
    network.assert_agree(&[0, 1, 2], later);

    // Restarted, it syncs what it missed, replays it and agrees on every hash.
    network.start(3);
    network.wait_for_slot(3, later);
    network.assert_agree(&[0, 1, 2, 3], later);
    assert_eq!(network.client(3).get_balance(&bob).unwrap(), 3_000_000_000);
    assert_eq!(
        network.client(3).get_balance(&alice).unwrap(),
        2_000_000_000
    );
}

#[test]
fn without_a_quorum_nothing_is_finalized_and_healing_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let network = Network::create(dir.path());
    network.wait_for_slot(0, 2);
    // Two of four paused: 2 < 2f + 1 = 3, so no block can be decided.
    for index in [2, 3] {
        // SAFETY: signals to child processes this test started.
        unsafe { libc::kill(network.pid(index), libc::SIGSTOP) };
    }
    // Let a decision already in flight land, then watch: nothing more is finalized. One
    // of the two may still catch up to a block the other had (by sync), so what must not
    // move is the newest slot either has.
    std::thread::sleep(Duration::from_secs(2));
    let stalled = [0, 1].map(|index| network.client(index).get_slot().unwrap());
    std::thread::sleep(Duration::from_secs(4));
    let still = [0, 1].map(|index| network.client(index).get_slot().unwrap());
    assert_eq!(
        still.iter().max(),
        stalled.iter().max(),
        "a slot was finalized without a quorum: {stalled:?} then {still:?}"
    );
    // Healed: finalization resumes, on one chain.
    for index in [2, 3] {
        // SAFETY: as above.
        unsafe { libc::kill(network.pid(index), libc::SIGCONT) };
    }
    let target = stalled[0].max(stalled[1]) + 3;
    for index in 0..VALIDATORS {
        network.wait_for_slot(index, target);
    }
    network.assert_agree(&[0, 1, 2, 3], target);
}

#[test]
fn a_transaction_is_forwarded_to_the_other_validators() {
    let dir = tempfile::tempdir().unwrap();
    let network = Network::create(dir.path());
    network.wait_for_slot(0, 1);
    // Sent to validator 0, which is then paused: only the copies it forwarded can land.
    let carol = Pubkey::new_from_array([0xCA; 32]);
    let signature = network
        .client(0)
        .request_airdrop(&carol, 1_000_000_000)
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: a signal to a child process this test started.
    unsafe { libc::kill(network.pid(0), libc::SIGSTOP) };
    let status =
        network
            .client(1)
            .confirm_transaction(&signature, ConfirmationStatus::Finalized, DEADLINE);
    // SAFETY: as above.
    unsafe { libc::kill(network.pid(0), libc::SIGCONT) };
    status.unwrap();
    for index in 1..VALIDATORS {
        assert_eq!(
            network.client(index).get_balance(&carol).unwrap(),
            1_000_000_000
        );
    }
}

#[test]
fn validators_killed_in_turn_mid_slot_rejoin_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut network = Network::create(dir.path());
    network.wait_for_slot(0, 2);
    // Each validator in turn is killed wherever it is (building, judging, committing) while
    // a transfer is in flight, and restarted from its ledger, WAL and saved proposals.
    for round in 0..VALIDATORS {
        let to = Pubkey::new_from_array([0xD0 + round as u8; 32]);
        let live = (round + 1) % VALIDATORS;
        let signature = network
            .client(live)
            .request_airdrop(&to, 1_000_000_000)
            .unwrap();
        std::thread::sleep(Duration::from_millis(150 * round as u64));
        network.nodes[round].take().unwrap().kill();
        network
            .client(live)
            .confirm_transaction(&signature, ConfirmationStatus::Finalized, DEADLINE)
            .unwrap();
        network.start(round);
        let tip = network.client(live).get_slot().unwrap();
        network.wait_for_slot(round, tip);
    }
    let tip = (0..VALIDATORS)
        .map(|index| network.client(index).get_slot().unwrap())
        .min()
        .unwrap();
    network.assert_agree(&[0, 1, 2, 3], tip);
    for round in 0..VALIDATORS {
        let to = Pubkey::new_from_array([0xD0 + round as u8; 32]);
        for index in 0..VALIDATORS {
            assert_eq!(
                network.client(index).get_balance(&to).unwrap(),
                1_000_000_000
            );
        }
    }
}

#[test]
fn a_lagging_validator_syncs_from_peers_that_restarted_since() {
    let dir = tempfile::tempdir().unwrap();
    let mut network = Network::create(dir.path());
    network.wait_for_slot(3, 2);
    // Validator 3 goes down; the others finalize a transfer and more slots without it.
    network.nodes[3].take().unwrap().kill();
    let erin = Pubkey::new_from_array([0xE1; 32]);
    airdrop(&network, 0, &erin, 4_000_000_000);
    let tip = network.client(0).get_slot().unwrap() + 2;
    network.wait_for_slot(0, tip);
    // Every other validator restarts: what they decided is now only on their disks.
    for index in 0..3 {
        network.nodes[index].take().unwrap().kill();
    }
    for index in 0..3 {
        network.start(index);
    }
    network.start(3);
    network.wait_for_slot(3, tip);
    network.assert_agree(&[0, 1, 2, 3], tip);
    assert_eq!(network.client(3).get_balance(&erin).unwrap(), 4_000_000_000);
}
