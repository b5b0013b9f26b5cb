//! One test per rule: the exact error, and that nothing changed but the fee where one is owed.

// Test arithmetic runs on small, known values; an overflow would be a failing test anyway.
#![allow(clippy::arithmetic_side_effects)]

mod common;

use braid_program_system::SystemError;
use braid_program_system::instruction as system;
use braid_runtime::account_source::InMemoryAccounts;
use braid_runtime::compute_budget::{set_compute_unit_limit, set_compute_unit_price};
use braid_runtime::fee::LAMPORTS_PER_SIGNATURE;
use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::pda::find_program_address;
use braid_runtime::{
    Account, AccountMeta, Instruction, InstructionError, Pubkey, SYSTEM_PROGRAM_ID, SanitizeError,
    Transaction, TransactionError,
};
use common::*;

const FUNDS: u64 = 1_000_000_000;

/// Sends `tx`, expects `expected`, and checks that state changed by exactly the fee
/// (`fee_payer` debited `fee`) or not at all (`fee` = 0).
fn expect_failure(harness: &mut Harness, tx: Transaction, expected: TransactionError, fee: u64) {
    let payer = tx.message.account_keys[0];
    let before: InMemoryAccounts = harness.accounts().clone();
    assert_eq!(send(harness, tx), Err(expected));
    let mut expected_state = before;
    if fee > 0 {
        let mut account = expected_state.get(&payer).unwrap().clone();
        account.lamports -= fee;
        expected_state.store(payer, account);
    }
    assert_eq!(
        harness.accounts(),
        &expected_state,
        "state changed beyond the fee"
    );
}

fn ix_failed(index: u8, error: InstructionError) -> TransactionError {
    TransactionError::InstructionError(index, error)
}

fn probe(probe: &Probe, accounts: Vec<AccountMeta>) -> Instruction {
    probe_ix(PROBE_ID, probe, accounts)
}

#[test]
fn bad_signature_is_rejected_unpaid() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let mut tx = sign(
        &h,
        &payer,
        &[],
        &[system::transfer(
            &payer.pubkey(),
            &Pubkey::new_from_array([9; 32]),
            1,
        )],
    );
    tx.signatures[0].0[0] ^= 1;
    expect_failure(&mut h, tx, TransactionError::SignatureFailure, 0);
}

#[test]
fn signature_count_must_match_header() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let mut tx = sign(
        &h,
        &payer,
        &[],
        &[system::transfer(
            &payer.pubkey(),
            &Pubkey::new_from_array([9; 32]),
            1,
        )],
    );
    tx.signatures.clear();
    let expected = SanitizeError::SignatureCountMismatch {
        signatures: 0,
        required: 1,
    };
    expect_failure(&mut h, tx, TransactionError::Sanitize(expected), 0);
}

#[test]
fn missing_instruction_signer_fails_paid() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let victim = funded(&mut h, FUNDS);
    let mut ix = system::transfer(&victim.pubkey(), &payer.pubkey(), 10);
    ix.accounts[0].is_signer = false;
    let tx = sign(&h, &payer, &[], &[ix]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::MissingRequiredSignature),
        LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn duplicate_account_keys_are_rejected() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let mut tx = sign(
        &h,
        &payer,
        &[],
        &[system::transfer(
            &payer.pubkey(),
            &Pubkey::new_from_array([9; 32]),
            1,
        )],
    );
    let duplicate = tx.message.account_keys[0];
    tx.message.account_keys[1] = duplicate;
    expect_failure(
        &mut h,
        tx,
        TransactionError::Sanitize(SanitizeError::AccountLoadedTwice(duplicate)),
        0,
    );
}

#[test]
fn readonly_account_cannot_change() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let owned = account_owned_by(&mut h, &PROBE_ID, 100, &[0]);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &Probe::Write { at: 0, byte: 7 },
            vec![AccountMeta::new_readonly(owned, false)],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ReadonlyDataModified),
        LAMPORTS_PER_SIGNATURE,
    );

    let other = account_owned_by(&mut h, &PROBE_ID, 100, &[]);
    let move_ix = probe(
        &Probe::Move {
            from: 0,
            to: 1,
            lamports: 1,
        },
        vec![
            AccountMeta::new_readonly(owned, false),
            AccountMeta::new(other, false),
        ],
    );
    let tx = sign(&h, &payer, &[], &[move_ix]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ReadonlyLamportChange),
        LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn only_the_owner_debits() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let foreign = account_owned_by(&mut h, &PROBE2_ID, 100, &[]);
    let ix = probe(
        &Probe::Move {
            from: 0,
            to: 1,
            lamports: 1,
        },
        vec![
            AccountMeta::new(foreign, false),
            AccountMeta::new(payer.pubkey(), true),
        ],
    );
    let tx = sign(&h, &payer, &[], &[ix]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ExternalAccountLamportSpend),
        LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn anyone_credits_a_writable_account() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let mine = account_owned_by(&mut h, &PROBE_ID, 100, &[]);
    let foreign = account_owned_by(&mut h, &PROBE2_ID, 100, &[]);
    let ix = probe(
        &Probe::Move {
            from: 0,
            to: 1,
            lamports: 40,
        },
        vec![
            AccountMeta::new(mine, false),
            AccountMeta::new(foreign, false),
        ],
    );
    send_signed(&mut h, &payer, &[], &[ix]).unwrap();
    assert_eq!(h.get_balance(&mine), 60);
    assert_eq!(h.get_balance(&foreign), 140);
}

#[test]
fn only_the_owner_changes_data() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let foreign = account_owned_by(&mut h, &PROBE2_ID, 100, &[0]);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &Probe::Write { at: 0, byte: 1 },
            vec![AccountMeta::new(foreign, false)],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ExternalAccountDataModified),
        LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn lamports_cannot_be_created_or_destroyed() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let mine = account_owned_by(&mut h, &PROBE_ID, 100, &[]);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &Probe::Mint { at: 0, lamports: 5 },
            vec![AccountMeta::new(mine, false)],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::UnbalancedInstruction),
        LAMPORTS_PER_SIGNATURE,
    );

    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &Probe::Destroy { at: 0, lamports: 5 },
            vec![AccountMeta::new(mine, false)],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::UnbalancedInstruction),
        LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn executable_accounts_never_change() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let mine = account_owned_by(&mut h, &PROBE_ID, 100, &[]);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &Probe::FlipExecutable { at: 0 },
            vec![AccountMeta::new(mine, false)],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ExecutableModified),
        LAMPORTS_PER_SIGNATURE,
    );

    let program_account = Account {
        lamports: 10,
        owner: PROBE_ID,
        executable: true,
        data: vec![1],
    };
    let exe = Keypair::new().pubkey();
    h.set_account(exe, program_account);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &Probe::Write { at: 0, byte: 2 },
            vec![AccountMeta::new(exe, false)],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ExecutableDataModified),
        LAMPORTS_PER_SIGNATURE,
    );
    let ix = probe(
        &Probe::Move {
            from: 0,
            to: 1,
            lamports: 1,
        },
        vec![AccountMeta::new(exe, false), AccountMeta::new(mine, false)],
    );
    let tx = sign(&h, &payer, &[], &[ix]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ExecutableLamportChange),
        LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn owner_changes_only_by_owner_with_zeroed_data() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let to_probe2 = Probe::SetOwner {
        at: 0,
        owner: PROBE2_ID.to_bytes(),
    };
    let foreign = account_owned_by(&mut h, &PROBE2_ID, 100, &[]);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &Probe::SetOwner {
                at: 0,
                owner: PROBE_ID.to_bytes(),
            },
            vec![AccountMeta::new(foreign, false)],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ModifiedProgramId),
        LAMPORTS_PER_SIGNATURE,
    );

    let dirty = account_owned_by(&mut h, &PROBE_ID, 100, &[1]);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(&to_probe2, vec![AccountMeta::new(dirty, false)])],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ModifiedProgramId),
        LAMPORTS_PER_SIGNATURE,
    );

    let readonly = account_owned_by(&mut h, &PROBE_ID, 100, &[0]);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &to_probe2,
            vec![AccountMeta::new_readonly(readonly, false)],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ModifiedProgramId),
        LAMPORTS_PER_SIGNATURE,
    );

    let clean = account_owned_by(&mut h, &PROBE_ID, 100, &[0, 0]);
    send_signed(
        &mut h,
        &payer,
        &[],
        &[probe(&to_probe2, vec![AccountMeta::new(clean, false)])],
    )
    .unwrap();
    assert_eq!(h.get_account(&clean).unwrap().owner, PROBE2_ID);
}

#[test]
fn data_is_capped_at_ten_mebibytes() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let mine = account_owned_by(&mut h, &PROBE_ID, 100, &[]);
    let too_big = (10 * 1024 * 1024 + 1) as u64;
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &Probe::Resize {
                at: 0,
                len: too_big,
            },
            vec![AccountMeta::new(mine, false)],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::InvalidRealloc),
        LAMPORTS_PER_SIGNATURE,
    );
}

/// Positions: 0 payer, 1 target account, 2 the probe program.
fn call(
    then: Probe,
    target: AccountMeta,
    signer: bool,
    writable: bool,
    seeds: Vec<Vec<u8>>,
) -> Instruction {
    let probe_call = Probe::Call {
        program: 2,
        accounts: vec![(1, signer, writable)],
        then: Box::new(then),
        seeds,
    };
    probe(
        &probe_call,
        vec![
            AccountMeta::new_readonly(Pubkey::default(), false),
            target,
            AccountMeta::new_readonly(PROBE2_ID, false),
        ],
    )
}

#[test]
fn cross_program_calls_cannot_escalate_privileges() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let target = account_owned_by(&mut h, &PROBE2_ID, 100, &[0]);
    let fix = |mut ix: Instruction| {
        ix.accounts[0] = AccountMeta::new(payer.pubkey(), true);
        ix
    };
    let writable = fix(call(
        Probe::Noop,
        AccountMeta::new_readonly(target, false),
        false,
        true,
        vec![],
    ));
    let tx = sign(&h, &payer, &[], &[writable]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::PrivilegeEscalation),
        LAMPORTS_PER_SIGNATURE,
    );
    let signer = fix(call(
        Probe::Noop,
        AccountMeta::new(target, false),
        true,
        true,
        vec![],
    ));
    let tx = sign(&h, &payer, &[], &[signer]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::PrivilegeEscalation),
        LAMPORTS_PER_SIGNATURE,
    );
    // With the caller's own privileges the call goes through and the callee (owner) writes.
    let ok = fix(call(
        Probe::Write { at: 0, byte: 9 },
        AccountMeta::new(target, false),
        false,
        true,
        vec![],
    ));
    send_signed(&mut h, &payer, &[], &[ok]).unwrap();
    assert_eq!(h.get_account(&target).unwrap().data, [9]);
}

#[test]
fn a_program_signs_for_its_derived_address() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let (pda, bump) = find_program_address(&[b"vault"], &PROBE_ID);
    h.set_account(pda, Account::new(100, 0, &PROBE2_ID));
    // Seeds are hashed concatenated, so the one seed `vault ‖ bump` signs for the address
    // `find_program_address(["vault"])` found with that bump.
    let seed_with = |bump: u8| vec![b"vault".iter().copied().chain([bump]).collect::<Vec<u8>>()];
    let signed_call = |seeds| {
        let mut ix = call(
            Probe::Write { at: 0, byte: 1 },
            AccountMeta::new(pda, false),
            true,
            true,
            seeds,
        );
        ix.accounts[0] = AccountMeta::new(payer.pubkey(), true);
        ix
    };
    let tx = sign(&h, &payer, &[], &[signed_call(vec![])]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::PrivilegeEscalation),
        LAMPORTS_PER_SIGNATURE,
    );
    let wrong_bump = if bump == 255 {
        254
    } else {
        bump.wrapping_add(1)
    };
    // The wrong bump either hashes onto the curve (no valid address) or to another
    // address than the one the call asks to sign for; which one is fixed by the seeds.
    let wrong_seed = seed_with(wrong_bump);
    let expected = match braid_runtime::pda::create_program_address(&[&wrong_seed[0]], &PROBE_ID) {
        Err(_) => InstructionError::InvalidSeeds,
        Ok(address) => {
            assert_ne!(address, pda);
            InstructionError::PrivilegeEscalation
        }
    };
    let tx = sign(&h, &payer, &[], &[signed_call(wrong_seed)]);
    expect_failure(&mut h, tx, ix_failed(0, expected), LAMPORTS_PER_SIGNATURE);
    send_signed(&mut h, &payer, &[], &[signed_call(seed_with(bump))]).unwrap();
    assert_eq!(h.get_account(&pda).unwrap().data, [1]);
}

#[test]
fn reentrancy_is_refused_but_self_recursion_is_allowed() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    // probe1 → probe2 → probe1. Top-level accounts: payer, PROBE2, PROBE1; probe2 is handed
    // both programs (its positions 0 and 1) and calls position 1, probe1.
    let back = Probe::Call {
        program: 1,
        accounts: vec![],
        then: Box::new(Probe::Noop),
        seeds: vec![],
    };
    let forth = Probe::Call {
        program: 1,
        accounts: vec![(1, false, false), (2, false, false)],
        then: Box::new(back),
        seeds: vec![],
    };
    let accounts = vec![
        AccountMeta::new(payer.pubkey(), true),
        AccountMeta::new_readonly(PROBE2_ID, false),
        AccountMeta::new_readonly(PROBE_ID, false),
    ];
    let tx = sign(&h, &payer, &[], &[probe(&forth, accounts)]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ReentrancyNotAllowed),
        LAMPORTS_PER_SIGNATURE,
    );

    let recurse = probe(
        &Probe::Recurse { depth: 3 },
        vec![AccountMeta::new_readonly(PROBE_ID, false)],
    );
    send_signed(&mut h, &payer, &[], &[recurse]).unwrap();
}

#[test]
fn call_depth_is_limited_to_four() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let recurse = probe(
        &Probe::Recurse { depth: 4 },
        vec![AccountMeta::new_readonly(PROBE_ID, false)],
    );
    let tx = sign(&h, &payer, &[], &[recurse]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::CallDepth),
        LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn calling_a_program_outside_the_callers_accounts_fails() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &Probe::CallId {
                program_id: PROBE2_ID.to_bytes(),
            },
            vec![],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::UnknownCalleeProgram),
        LAMPORTS_PER_SIGNATURE,
    );
    // Listed but not a program.
    let stranger = Pubkey::new_from_array([0xCC; 32]);
    let ix = probe(
        &Probe::CallId {
            program_id: stranger.to_bytes(),
        },
        vec![AccountMeta::new_readonly(stranger, false)],
    );
    let tx = sign(&h, &payer, &[], &[ix]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::UnsupportedProgramId),
        LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn compute_exhaustion_fails_the_transaction() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[
            set_compute_unit_limit(1_000),
            probe(&Probe::Burn { units: 901 }, vec![]),
        ],
    );
    // 150 (compute budget) + 100 (probe) + 901 > 1000.
    expect_failure(
        &mut h,
        tx,
        ix_failed(1, InstructionError::ComputationalBudgetExceeded),
        LAMPORTS_PER_SIGNATURE,
    );
    let tx = sign(
        &h,
        &payer,
        &[],
        &[
            set_compute_unit_limit(1_000),
            probe(&Probe::Burn { units: 750 }, vec![]),
        ],
    );
    let meta = h.send_transaction(tx).unwrap();
    assert_eq!(meta.compute_units_consumed, 1_000);
}

#[test]
fn default_compute_limit_is_200k_per_instruction() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(&Probe::Burn { units: 199_901 }, vec![])],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ComputationalBudgetExceeded),
        LAMPORTS_PER_SIGNATURE,
    );
    let ixs = [
        probe(&Probe::Burn { units: 199_901 }, vec![]),
        probe(&Probe::Noop, vec![]),
    ];
    send_signed(&mut h, &payer, &[], &ixs).unwrap();
}

#[test]
fn duplicate_compute_budget_instruction_is_rejected_unpaid() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[set_compute_unit_limit(1_000), set_compute_unit_limit(2_000)],
    );
    expect_failure(&mut h, tx, TransactionError::DuplicateInstruction(1), 0);
    let bad = Instruction::new_with_bytes(braid_runtime::compute_budget::ID, &[9, 9], vec![]);
    let tx = sign(&h, &payer, &[], &[bad]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::InvalidInstructionData),
        0,
    );
}

#[test]
fn priority_fee_is_charged() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    // 10_000 units at 2_500_000 micro-lamports = 25_000 lamports.
    let ixs = [
        set_compute_unit_limit(10_000),
        set_compute_unit_price(2_500_000),
        probe(&Probe::Noop, vec![]),
    ];
    let meta = h.send_transaction(sign(&h, &payer, &[], &ixs)).unwrap();
    assert_eq!(meta.fee, LAMPORTS_PER_SIGNATURE + 25_000);
    assert_eq!(
        h.get_balance(&payer.pubkey()),
        FUNDS - LAMPORTS_PER_SIGNATURE - 25_000
    );
}

#[test]
fn stale_blockhash_is_rejected() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let tx = sign(&h, &payer, &[], &[probe(&Probe::Noop, vec![])]);
    for _ in 0..149 {
        h.expire_blockhash();
    }
    // 149 newer blockhashes: still one of the last 150.
    h.simulate_transaction(tx.clone()).unwrap();
    h.expire_blockhash();
    expect_failure(&mut h, tx, TransactionError::BlockhashNotFound, 0);
}

#[test]
fn the_same_message_is_processed_once() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[system::transfer(
            &payer.pubkey(),
            &Pubkey::new_from_array([9; 32]),
            1,
        )],
    );
    send(&mut h, tx.clone()).unwrap();
    expect_failure(&mut h, tx.clone(), TransactionError::AlreadyProcessed, 0);
    // A failed transaction is recorded too: its fee was paid.
    let failing = sign(&h, &payer, &[], &[probe(&Probe::Fail { code: 3 }, vec![])]);
    expect_failure(
        &mut h,
        failing.clone(),
        ix_failed(0, InstructionError::Custom(3)),
        LAMPORTS_PER_SIGNATURE,
    );
    expect_failure(&mut h, failing, TransactionError::AlreadyProcessed, 0);
}

#[test]
fn payer_who_cannot_pay_is_rejected_with_no_change() {
    let mut h = harness();
    let payer = funded(&mut h, LAMPORTS_PER_SIGNATURE - 1);
    let tx = sign(&h, &payer, &[], &[probe(&Probe::Noop, vec![])]);
    expect_failure(&mut h, tx, TransactionError::InsufficientFundsForFee, 0);
    let ghost = Keypair::new();
    let tx = sign(&h, &ghost, &[], &[probe(&Probe::Noop, vec![])]);
    expect_failure(&mut h, tx, TransactionError::AccountNotFound, 0);
}

#[test]
fn fee_payer_must_be_system_owned() {
    let mut h = harness();
    let payer = Keypair::new();
    h.set_account(payer.pubkey(), Account::new(FUNDS, 0, &PROBE_ID));
    let tx = sign(&h, &payer, &[], &[probe(&Probe::Noop, vec![])]);
    expect_failure(&mut h, tx, TransactionError::InvalidAccountForFee, 0);
}

#[test]
fn fee_payer_must_be_a_writable_signer() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let mut tx = sign(&h, &payer, &[], &[probe(&Probe::Noop, vec![])]);
    tx.message.header.num_readonly_signed_accounts = 1;
    expect_failure(
        &mut h,
        tx,
        TransactionError::Sanitize(SanitizeError::NoWritableSigner),
        0,
    );
}

#[test]
fn malformed_instruction_data_fails_paid() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let bad = Instruction::new_with_bytes(
        SYSTEM_PROGRAM_ID,
        &[2, 0, 0],
        vec![AccountMeta::new(payer.pubkey(), true)],
    );
    let tx = sign(&h, &payer, &[], &[bad]);
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::InvalidInstructionData),
        LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn unknown_program_is_rejected_unpaid() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let nowhere = Pubkey::new_from_array([0xEE; 32]);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[Instruction::new_with_bytes(nowhere, &[], vec![])],
    );
    expect_failure(
        &mut h,
        tx,
        TransactionError::ProgramAccountNotFound(nowhere),
        0,
    );
}

#[test]
fn a_failed_transaction_rolls_back_all_but_the_fee() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let to = Pubkey::new_from_array([9; 32]);
    let ixs = [
        system::transfer(&payer.pubkey(), &to, 1_000),
        probe(&Probe::Fail { code: 7 }, vec![]),
    ];
    let tx = sign(&h, &payer, &[], &ixs);
    expect_failure(
        &mut h,
        tx,
        ix_failed(1, InstructionError::Custom(7)),
        LAMPORTS_PER_SIGNATURE,
    );
    assert_eq!(h.get_account(&to), None);
}

#[test]
fn system_transfer_checks() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let to = Pubkey::new_from_array([9; 32]);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[system::transfer(&payer.pubkey(), &to, FUNDS)],
    );
    let code = SystemError::ResultWithNegativeLamports as u32;
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::Custom(code)),
        LAMPORTS_PER_SIGNATURE,
    );
    send_signed(
        &mut h,
        &payer,
        &[],
        &[system::transfer(&payer.pubkey(), &to, 1_234)],
    )
    .unwrap();
    assert_eq!(h.get_balance(&to), 1_234);
    assert_eq!(
        h.get_balance(&payer.pubkey()),
        FUNDS - 2 * LAMPORTS_PER_SIGNATURE - 1_234
    );
}

#[test]
fn system_create_account_checks() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let new = Keypair::new();
    let ix = system::create_account(&payer.pubkey(), &new.pubkey(), 500, 10, &PROBE_ID);
    send_signed(&mut h, &payer, &[&new], std::slice::from_ref(&ix)).unwrap();
    assert_eq!(
        h.get_account(&new.pubkey()),
        Some(Account::new(500, 10, &PROBE_ID))
    );
    h.expire_blockhash();
    let tx = sign(&h, &payer, &[&new], &[ix]);
    let code = SystemError::AccountAlreadyInUse as u32;
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::Custom(code)),
        2 * LAMPORTS_PER_SIGNATURE,
    );

    let huge = Keypair::new();
    let ix = system::create_account(
        &payer.pubkey(),
        &huge.pubkey(),
        1,
        10 * 1024 * 1024 + 1,
        &PROBE_ID,
    );
    let tx = sign(&h, &payer, &[&huge], &[ix]);
    let code = SystemError::InvalidAccountDataLength as u32;
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::Custom(code)),
        2 * LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn system_with_seed_addresses() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let address =
        braid_runtime::pda::create_with_seed(&payer.pubkey(), "pool-1", &PROBE_ID).unwrap();
    let ix = system::create_account_with_seed(
        &payer.pubkey(),
        &address,
        &payer.pubkey(),
        "pool-1",
        700,
        3,
        &PROBE_ID,
    );
    send_signed(&mut h, &payer, &[], &[ix]).unwrap();
    assert_eq!(
        h.get_account(&address),
        Some(Account::new(700, 3, &PROBE_ID))
    );
    let wrong = system::create_account_with_seed(
        &payer.pubkey(),
        &address,
        &payer.pubkey(),
        "pool-2",
        700,
        3,
        &PROBE_ID,
    );
    let tx = sign(&h, &payer, &[], &[wrong]);
    let code = SystemError::AddressWithSeedMismatch as u32;
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::Custom(code)),
        LAMPORTS_PER_SIGNATURE,
    );
}

#[test]
fn simulation_changes_nothing() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let to = Pubkey::new_from_array([9; 32]);
    let before = h.accounts().clone();
    let sim = h
        .simulate_transaction(sign(
            &h,
            &payer,
            &[],
            &[system::transfer(&payer.pubkey(), &to, 5)],
        ))
        .unwrap();
    assert_eq!(h.accounts(), &before);
    assert_eq!(
        sim.post_accounts[1],
        (to, Account::new(5, 0, &SYSTEM_PROGRAM_ID))
    );
    assert_eq!(sim.meta.compute_units_consumed, 150);
}

#[test]
fn a_panicking_program_fails_its_instruction_and_changes_nothing_but_the_fee() {
    let mut h = harness();
    let payer = funded(&mut h, 1_000_000);
    let data = account_owned_by(&mut h, &PROBE_ID, 1_000, &[0]);
    let to = Pubkey::new_from_array([9; 32]);
    let ixs = [
        system::transfer(&payer.pubkey(), &to, 1_000),
        probe(
            &Probe::Panic { at: 0, byte: 7 },
            vec![AccountMeta::new(data, false)],
        ),
    ];
    let tx = sign(&h, &payer, &[], &ixs);
    expect_failure(
        &mut h,
        tx,
        ix_failed(1, InstructionError::ProgramFailedToComplete),
        LAMPORTS_PER_SIGNATURE,
    );
    assert_eq!(h.get_account(&to), None);
    assert_eq!(
        h.get_account(&data).unwrap().data,
        [0],
        "the write before the panic is undone"
    );
    // Inside a cross-program call too: the callee's panic fails the outer instruction.
    let nested = Probe::Call {
        program: 1,
        accounts: vec![(0, false, true)],
        then: Box::new(Probe::Panic { at: 0, byte: 9 }),
        seeds: vec![],
    };
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &nested,
            vec![
                AccountMeta::new(data, false),
                AccountMeta::new_readonly(PROBE_ID, false),
            ],
        )],
    );
    expect_failure(
        &mut h,
        tx,
        ix_failed(0, InstructionError::ProgramFailedToComplete),
        LAMPORTS_PER_SIGNATURE,
    );
    assert_eq!(h.get_account(&data).unwrap().data, [0]);
    // The harness carries on.
    send_signed(
        &mut h,
        &payer,
        &[],
        &[system::transfer(&payer.pubkey(), &to, 5)],
    )
    .unwrap();
    assert_eq!(h.get_balance(&to), 5);
}

#[test]
fn loading_more_than_64_mib_of_account_data_fails_with_the_fee_paid() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let ten_mib = braid_runtime::primitives::ACCOUNT_DATA_BYTES_MAX;
    // Seven accounts of 10 MiB: 70 MiB, over the 64 MiB a transaction may load.
    let big: Vec<AccountMeta> = (0..7)
        .map(|_| {
            AccountMeta::new_readonly(
                account_owned_by(&mut h, &PROBE_ID, 1, &vec![0; ten_mib]),
                false,
            )
        })
        .collect();
    assert!(7 * ten_mib > braid_runtime::executor::LOADED_ACCOUNTS_DATA_BYTES_MAX);
    let tx = sign(&h, &payer, &[], &[probe(&Probe::Noop, big.clone())]);
    expect_failure(
        &mut h,
        tx,
        TransactionError::MaxLoadedAccountsDataSizeExceeded,
        LAMPORTS_PER_SIGNATURE,
    );
    // Six of them (60 MiB) load.
    let tx = sign(&h, &payer, &[], &[probe(&Probe::Noop, big[..6].to_vec())]);
    send(&mut h, tx).unwrap();
}

#[test]
fn changing_an_account_is_charged_for_its_data() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let data = account_owned_by(&mut h, &PROBE_ID, 1_000_000, &vec![0; 100_000]);
    let tx = sign(
        &h,
        &payer,
        &[],
        &[probe(
            &Probe::Write { at: 0, byte: 1 },
            vec![AccountMeta::new(data, false)],
        )],
    );
    let meta = h.send_transaction(tx).unwrap();
    // The probe's own units, then one unit per 250 bytes copied and compared.
    assert_eq!(
        meta.compute_units_consumed,
        PROBE_UNITS + 100_000 / braid_runtime::invoke_context::DATA_BYTES_PER_COMPUTE_UNIT as u64
    );
    assert_eq!(h.get_account(&data).unwrap().data[0], 1);
}

#[test]
fn an_account_borrowed_but_left_unchanged_is_not_written() {
    let mut h = harness();
    let payer = funded(&mut h, FUNDS);
    let big = account_owned_by(&mut h, &SYSTEM_PROGRAM_ID, 1_000, &[]);
    let mut ten_mib = h.get_account(&big).unwrap();
    ten_mib.data = vec![7; braid_runtime::primitives::ACCOUNT_DATA_BYTES_MAX];
    h.set_account(big, ten_mib);
    // A transfer of nothing borrows the recipient mutably and changes nothing.
    let tx = sign(
        &h,
        &payer,
        &[],
        &[system::transfer(&payer.pubkey(), &big, 0)],
    );
    let sanitized = braid_runtime::sanitized::SanitizedTransaction::try_new(tx).unwrap();
    let executed = h
        .executor()
        .execute(
            &sanitized,
            h.accounts(),
            &braid_runtime::invoke_context::Clock::default(),
        )
        .unwrap();
    assert_eq!(executed.status, Ok(()));
    let written: Vec<Pubkey> = executed.writes.iter().map(|(key, _)| *key).collect();
    assert_eq!(
        written,
        [payer.pubkey()],
        "only the fee payer's balance changed"
    );
}
