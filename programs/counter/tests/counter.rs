//! The counter program in the harness: the pattern for testing your own program.

use borsh::BorshDeserialize;
use braid_program_counter::{
    COUNTER_BYTES, COUNTER_LAMPORTS, Counter, CounterError, CounterProgram, counter_address,
};
use braid_program_system::SystemProgram;
use braid_runtime::fee::LAMPORTS_PER_SIGNATURE;
use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::{InstructionError, Transaction, TransactionError};

const AIRDROP_LAMPORTS: u64 = 10_000_000;

fn setup() -> (Harness, Keypair) {
    let mut harness = Harness::new();
    harness
        .add_program(SystemProgram)
        .add_program(CounterProgram);
    let user = Keypair::new();
    harness.airdrop(&user.pubkey(), AIRDROP_LAMPORTS).unwrap();
    (harness, user)
}

fn send(
    harness: &mut Harness,
    signer: &Keypair,
    ix: braid_runtime::Instruction,
) -> Result<u64, TransactionError> {
    let tx = Transaction::new_signed_with_payer(
        &[ix],
        Some(&signer.pubkey()),
        &[signer],
        harness.latest_blockhash(),
    );
    harness
        .send_transaction(tx)
        .map(|meta| meta.compute_units_consumed)
        .map_err(|failed| failed.err)
}

fn counter(harness: &Harness, user: &Keypair) -> Counter {
    let account = harness
        .get_account(&counter_address(&user.pubkey()).0)
        .expect("counter exists");
    assert_eq!(account.data.len(), COUNTER_BYTES);
    Counter::try_from_slice(&account.data).unwrap()
}

/// Initializes `user`'s counter and checks it starts at zero under their authority.
fn initialize(harness: &mut Harness, user: &Keypair) {
    send(
        harness,
        user,
        braid_program_counter::initialize(&user.pubkey()),
    )
    .unwrap();
    assert_eq!(
        counter(harness, user),
        Counter {
            authority: user.pubkey(),
            count: 0
        }
    );
}

#[test]
fn initialize_then_increment() {
    let (mut harness, user) = setup();
    initialize(&mut harness, &user);
    assert_eq!(
        harness.get_balance(&user.pubkey()),
        AIRDROP_LAMPORTS - COUNTER_LAMPORTS - LAMPORTS_PER_SIGNATURE
    );

    let units = send(
        &mut harness,
        &user,
        braid_program_counter::increment(&user.pubkey(), 41),
    )
    .unwrap();
    // 500 for the counter program itself.
    assert_eq!(units, 500);
    harness.expire_blockhash();
    send(
        &mut harness,
        &user,
        braid_program_counter::increment(&user.pubkey(), 1),
    )
    .unwrap();
    assert_eq!(counter(&harness, &user).count, 42);
}

#[test]
fn initialize_costs_a_cross_program_call() {
    let (mut harness, user) = setup();
    let units = send(
        &mut harness,
        &user,
        braid_program_counter::initialize(&user.pubkey()),
    )
    .unwrap();
    // Counter 500 + invoke 1000 + system 150.
    assert_eq!(units, 1_650);
}

#[test]
fn only_the_authority_increments() {
    let (mut harness, user) = setup();
    send(
        &mut harness,
        &user,
        braid_program_counter::initialize(&user.pubkey()),
    )
    .unwrap();
    let intruder = Keypair::new();
    harness
        .airdrop(&intruder.pubkey(), AIRDROP_LAMPORTS)
        .unwrap();
    let mut ix = braid_program_counter::increment(&intruder.pubkey(), 1);
    ix.accounts[1].pubkey = counter_address(&user.pubkey()).0;
    assert_eq!(
        send(&mut harness, &intruder, ix),
        Err(TransactionError::InstructionError(
            0,
            CounterError::WrongAddress.into()
        ))
    );
    assert_eq!(counter(&harness, &user).count, 0);
    assert_eq!(
        harness.get_balance(&intruder.pubkey()),
        AIRDROP_LAMPORTS - LAMPORTS_PER_SIGNATURE
    );
}

#[test]
fn overflow_is_an_error_and_changes_nothing() {
    let (mut harness, user) = setup();
    send(
        &mut harness,
        &user,
        braid_program_counter::initialize(&user.pubkey()),
    )
    .unwrap();
    send(
        &mut harness,
        &user,
        braid_program_counter::increment(&user.pubkey(), u64::MAX),
    )
    .unwrap();
    assert_eq!(
        send(
            &mut harness,
            &user,
            braid_program_counter::increment(&user.pubkey(), 1)
        ),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::Custom(CounterError::Overflow as u32)
        ))
    );
    assert_eq!(counter(&harness, &user).count, u64::MAX);
}

#[test]
fn initializing_twice_fails_in_the_system_program() {
    let (mut harness, user) = setup();
    send(
        &mut harness,
        &user,
        braid_program_counter::initialize(&user.pubkey()),
    )
    .unwrap();
    harness.expire_blockhash();
    assert_eq!(
        send(
            &mut harness,
            &user,
            braid_program_counter::initialize(&user.pubkey())
        ),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::Custom(0)
        ))
    );
}

#[test]
fn a_counter_address_someone_prefunded_still_initializes() {
    for prefunded in [1, COUNTER_LAMPORTS + 5] {
        let (mut harness, user) = setup();
        let stranger = Keypair::new();
        harness
            .airdrop(&stranger.pubkey(), AIRDROP_LAMPORTS)
            .unwrap();
        let (address, _) = counter_address(&user.pubkey());
        // Anyone may send lamports to any address, the counter's included.
        send(
            &mut harness,
            &stranger,
            braid_program_system::instruction::transfer(&stranger.pubkey(), &address, prefunded),
        )
        .unwrap();
        initialize(&mut harness, &user);
        let account = harness.get_account(&address).unwrap();
        assert_eq!(account.owner, braid_program_counter::ID);
        // Topped up to the counter's lamports, never below what the stranger sent.
        assert_eq!(account.lamports, prefunded.max(COUNTER_LAMPORTS));
        assert_eq!(
            harness.get_balance(&user.pubkey()),
            AIRDROP_LAMPORTS - COUNTER_LAMPORTS.saturating_sub(prefunded) - LAMPORTS_PER_SIGNATURE
        );
        send(
            &mut harness,
            &user,
            braid_program_counter::increment(&user.pubkey(), 3),
        )
        .unwrap();
        assert_eq!(counter(&harness, &user).count, 3);
    }
}
