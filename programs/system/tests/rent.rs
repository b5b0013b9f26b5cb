//! Rent exemption in the harness, as a ledger that requires it applies it: new accounts
//! must be exempt for their size, a rent-paying account may only lose lamports, and a fee
//! may not take the payer below exemption.
#![allow(clippy::arithmetic_side_effects)] // small known amounts

use braid_program_system::instruction as system;
use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::rent::minimum_balance;
use braid_runtime::{
    Account, Instruction, Pubkey, SYSTEM_PROGRAM_ID, Transaction, TransactionError,
};

const FUNDS: u64 = 10_000_000_000;

fn harness() -> (Harness, Keypair) {
    let mut harness = Harness::new();
    harness
        .add_program(braid_program_system::SystemProgram)
        .set_rent_exemption(true);
    let payer = Keypair::from_seed(&[1; 32]);
    harness.airdrop(&payer.pubkey(), FUNDS).unwrap();
    (harness, payer)
}

fn send(
    harness: &mut Harness,
    payer: &Keypair,
    instructions: &[Instruction],
    extra: &[&Keypair],
) -> Result<(), TransactionError> {
    let mut signers = vec![payer];
    signers.extend_from_slice(extra);
    let tx = Transaction::new_signed_with_payer(
        instructions,
        Some(&payer.pubkey()),
        &signers,
        harness.latest_blockhash(),
    );
    harness.expire_blockhash();
    harness
        .send_transaction(tx)
        .map(|_| ())
        .map_err(|failed| failed.err)
}

#[test]
fn a_new_account_must_be_exempt_for_its_size() {
    let (mut harness, payer) = harness();
    let account = Keypair::from_seed(&[2; 32]);
    let owner = Pubkey::new_from_array([9; 32]);
    let create = |lamports| {
        system::create_account(&payer.pubkey(), &account.pubkey(), lamports, 100, &owner)
    };
    assert_eq!(
        send(
            &mut harness,
            &payer,
            &[create(minimum_balance(100) - 1)],
            &[&account]
        ),
        Err(TransactionError::InsufficientFundsForRent { account_index: 1 })
    );
    // Failed with its fee (two signatures) paid, nothing created.
    assert_eq!(harness.get_balance(&payer.pubkey()), FUNDS - 10_000);
    assert_eq!(harness.get_account(&account.pubkey()), None);
    send(
        &mut harness,
        &payer,
        &[create(minimum_balance(100))],
        &[&account],
    )
    .unwrap();
    assert_eq!(harness.get_balance(&account.pubkey()), 1_586_880);
}

#[test]
fn a_rent_paying_account_may_only_lose_lamports() {
    let (mut harness, payer) = harness();
    // Left from before the rule: 1,000 lamports, no data.
    let old = Keypair::from_seed(&[3; 32]);
    harness.set_account(old.pubkey(), Account::new(1_000, 0, &SYSTEM_PROGRAM_ID));
    assert_eq!(
        send(
            &mut harness,
            &payer,
            &[system::transfer(&payer.pubkey(), &old.pubkey(), 1)],
            &[]
        ),
        Err(TransactionError::InsufficientFundsForRent { account_index: 1 })
    );
    // Emptied is fine.
    send(
        &mut harness,
        &payer,
        &[system::transfer(&old.pubkey(), &payer.pubkey(), 1_000)],
        &[&old],
    )
    .unwrap();
    assert_eq!(harness.get_account(&old.pubkey()), None);
}

#[test]
fn a_fee_may_not_take_the_payer_below_exemption() {
    let (mut harness, payer) = harness();
    let poor = Keypair::from_seed(&[4; 32]);
    harness
        .airdrop(&poor.pubkey(), minimum_balance(0) + 4_999)
        .unwrap();
    let to = Pubkey::new_from_array([8; 32]);
    // `poor` pays only the fee (10,000 for two signatures): refused before it is charged.
    let tx = Transaction::new_signed_with_payer(
        &[system::transfer(&payer.pubkey(), &to, minimum_balance(0))],
        Some(&poor.pubkey()),
        &[&poor, &payer],
        harness.latest_blockhash(),
    );
    assert_eq!(
        harness
            .send_transaction(tx)
            .map(|_| ())
            .map_err(|failed| failed.err),
        Err(TransactionError::InsufficientFundsForRent { account_index: 0 })
    );
    assert_eq!(
        harness.get_balance(&poor.pubkey()),
        minimum_balance(0) + 4_999
    );
}
