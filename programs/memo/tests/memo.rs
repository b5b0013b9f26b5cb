//! The Memo program in the harness: the note is logged, its signers are checked (v2 only),
//! and bad UTF-8 fails with the fee paid.

use braid_program_memo::{ID, ID_V1, MemoProgram, memo};
use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::{AccountMeta, Instruction, InstructionError, Transaction, TransactionError};

fn harness() -> (Harness, Keypair) {
    let mut harness = Harness::new();
    harness
        .add_program(MemoProgram::V2)
        .add_program(MemoProgram::V1)
        .set_log_messages(true);
    let payer = Keypair::from_seed(&[1; 32]);
    harness.airdrop(&payer.pubkey(), 1_000_000_000).unwrap();
    (harness, payer)
}

fn send(
    harness: &mut Harness,
    instruction: Instruction,
    signers: &[&Keypair],
) -> Result<Vec<String>, (TransactionError, Vec<String>)> {
    let tx = Transaction::new_signed_with_payer(
        &[instruction],
        Some(&signers[0].pubkey()),
        signers,
        harness.latest_blockhash(),
    );
    harness
        .send_transaction(tx)
        .map(|meta| meta.logs)
        .map_err(|failed| (failed.err, failed.meta.logs))
}

#[test]
fn a_memo_is_logged_and_signed_by_the_accounts_it_names() {
    let (mut harness, payer) = harness();
    let logs = send(&mut harness, memo("gm ☀", &[&payer.pubkey()]), &[&payer]).unwrap();
    let signed = format!("Program log: Signed by {}", payer.pubkey());
    let memo_line = "Program log: Memo (len 6): \"gm ☀\"".to_owned();
    let at = |line: &String| logs.iter().position(|logged| logged == line);
    assert!(
        at(&signed).is_some() && at(&signed) < at(&memo_line),
        "{logs:?}"
    );
    // A named account that did not sign.
    let other = Keypair::from_seed(&[2; 32]);
    let mut unsigned = memo("hi", &[&payer.pubkey()]);
    unsigned
        .accounts
        .push(AccountMeta::new_readonly(other.pubkey(), false));
    let (error, logs) = send(&mut harness, unsigned, &[&payer]).unwrap_err();
    assert_eq!(
        error,
        TransactionError::InstructionError(0, InstructionError::MissingRequiredSignature)
    );
    assert!(
        !logs.iter().any(|line| line.contains("Memo (len")),
        "{logs:?}"
    );
}

#[test]
fn bad_utf8_fails_and_v1_checks_no_signers() {
    let (mut harness, payer) = harness();
    let bad = Instruction {
        program_id: ID,
        accounts: vec![],
        data: vec![b'o', b'k', 0xff],
    };
    let (error, logs) = send(&mut harness, bad, &[&payer]).unwrap_err();
    assert_eq!(
        error,
        TransactionError::InstructionError(0, InstructionError::InvalidInstructionData)
    );
    assert!(
        logs.iter()
            .any(|line| line.contains("Invalid UTF-8, from byte 2")),
        "{logs:?}"
    );
    let unsigned = Keypair::from_seed(&[3; 32]);
    let v1 = Instruction {
        program_id: ID_V1,
        accounts: vec![AccountMeta::new_readonly(unsigned.pubkey(), false)],
        data: b"v1".to_vec(),
    };
    let logs = send(&mut harness, v1, &[&payer]).unwrap();
    // Version 1 logs the memo as it is.
    assert!(logs.contains(&"Program log: v1".to_owned()), "{logs:?}");
}
