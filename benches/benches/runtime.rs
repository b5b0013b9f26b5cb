//! Hot paths of the runtime: parse + sanitize, signature verification (single and batched),
//! executing a System transfer and an SPL Token transfer against in-memory accounts, and the
//! lattice hash a commit folds for every written account.

use std::hint::black_box;

use braid_program_system::instruction as system;
use braid_program_token as token;
use braid_runtime::account_source::InMemoryAccounts;
use braid_runtime::executor::{Executor, ExecutorConfig};
use braid_runtime::invoke_context::Clock;
use braid_runtime::keypair::Keypair;
use braid_runtime::program::ProgramRegistry;
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::state_hash::LtHash;
use braid_runtime::{Account, Hash, Pubkey, SYSTEM_PROGRAM_ID, Transaction};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const BATCH_SIGNATURES: usize = 64;

fn transfer_tx(payer: &Keypair, to: &Pubkey) -> Transaction {
    Transaction::new_signed_with_payer(
        &[system::transfer(&payer.pubkey(), to, 1)],
        Some(&payer.pubkey()),
        &[payer],
        Hash::default(),
    )
}

fn executor() -> Executor {
    let mut programs = ProgramRegistry::new();
    programs.add(braid_program_system::SystemProgram);
    programs.add(token::TokenProgram);
    Executor::new(programs, ExecutorConfig::QUIET)
}

fn wire(c: &mut Criterion) {
    let payer = Keypair::from_seed(&[1; 32]);
    let bytes = transfer_tx(&payer, &Pubkey::new_from_array([2; 32])).to_bytes();
    let mut group = c.benchmark_group("wire");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_sanitize_transfer", |b| {
        b.iter(|| SanitizedTransaction::try_from_bytes(black_box(&bytes)).unwrap())
    });
    group.finish();
}

fn sigverify(c: &mut Criterion) {
    let txs: Vec<SanitizedTransaction> = (0..BATCH_SIGNATURES)
        .map(|n| {
            let payer = Keypair::from_seed(&[n as u8; 32]);
            SanitizedTransaction::try_new(transfer_tx(&payer, &Pubkey::new_from_array([0xFF; 32])))
                .unwrap()
        })
        .collect();
    let mut group = c.benchmark_group("sigverify");
    group.throughput(Throughput::Elements(1));
    group.bench_function("single", |b| {
        b.iter(|| braid_runtime::sigverify::verify_transaction(black_box(&txs[0])).unwrap())
    });
    group.throughput(Throughput::Elements(BATCH_SIGNATURES as u64));
    // The same 64 signers every time: their keys are decoded once and then remembered.
    group.bench_function("batch_64", |b| {
        b.iter(|| braid_runtime::sigverify::verify_batch(black_box(&txs)))
    });
    // Twice as many signers as a thread remembers, taken in turn: every key is decoded.
    let unseen: Vec<SanitizedTransaction> = (0..2 * braid_runtime::sigverify::DECODED_KEYS_MAX)
        .map(|n| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(n as u64).to_le_bytes());
            let payer = Keypair::from_seed(&seed);
            SanitizedTransaction::try_new(transfer_tx(&payer, &Pubkey::new_from_array([0xFF; 32])))
                .unwrap()
        })
        .collect();
    let mut batches = unseen.chunks(BATCH_SIGNATURES).cycle();
    group.bench_function("batch_64_unseen_signers", |b| {
        b.iter(|| braid_runtime::sigverify::verify_batch(black_box(batches.next().unwrap())))
    });
    group.finish();
}

fn execute(c: &mut Criterion) {
    let executor = executor();
    let clock = Clock::default();
    let payer = Keypair::from_seed(&[7; 32]);
    let to = Pubkey::new_from_array([8; 32]);
    let mut accounts = InMemoryAccounts::new();
    accounts.store(
        payer.pubkey(),
        Account::new(1_000_000_000, 0, &SYSTEM_PROGRAM_ID),
    );
    let transfer = SanitizedTransaction::try_new(transfer_tx(&payer, &to)).unwrap();

    // Token transfer between two initialised token accounts of one mint.
    let mint = Pubkey::new_from_array([9; 32]);
    let (source, destination) = (
        Pubkey::new_from_array([10; 32]),
        Pubkey::new_from_array([11; 32]),
    );
    let mint_state = token::state::Mint {
        is_initialized: true,
        decimals: 6,
        supply: 2_000,
        ..Default::default()
    };
    accounts.store(
        mint,
        Account::with_data(1, mint_state.pack().to_vec(), &token::ID),
    );
    for key in [source, destination] {
        let state = token::state::TokenAccount {
            mint,
            owner: payer.pubkey(),
            amount: 1_000,
            state: token::state::AccountState::Initialized,
            ..Default::default()
        };
        accounts.store(
            key,
            Account::with_data(1, state.pack().to_vec(), &token::ID),
        );
    }
    let token_transfer = SanitizedTransaction::try_new(Transaction::new_signed_with_payer(
        &[token::instruction::transfer(
            &source,
            &destination,
            &payer.pubkey(),
            1,
        )],
        Some(&payer.pubkey()),
        &[&payer],
        Hash::default(),
    ))
    .unwrap();

    let mut group = c.benchmark_group("execute");
    group.throughput(Throughput::Elements(1));
    group.bench_function("system_transfer", |b| {
        b.iter(|| {
            executor
                .execute(black_box(&transfer), &accounts, &clock)
                .unwrap()
        })
    });
    group.bench_function("token_transfer", |b| {
        b.iter(|| {
            executor
                .execute(black_box(&token_transfer), &accounts, &clock)
                .unwrap()
        })
    });
    group.throughput(Throughput::Elements(64));
    group.bench_function("system_transfer_batch_64", |b| {
        b.iter_batched(
            || vec![transfer.clone(); 64],
            |batch| executor.execute_batch(&batch, &accounts, &clock),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// What a commit pays per written account: its old value out and its new value in. A System
/// account has no data; a token account has 165 bytes.
fn state_hash(c: &mut Criterion) {
    let key = Pubkey::new_from_array([7; 32]);
    let system_old = Account::new(1_000_000, 0, &SYSTEM_PROGRAM_ID);
    let system_new = Account::new(999_999, 0, &SYSTEM_PROGRAM_ID);
    let token_old = Account::with_data(2_039_280, vec![3; 165], &token::ID);
    let token_new = Account::with_data(2_039_280, vec![4; 165], &token::ID);
    let mut group = c.benchmark_group("state_hash");
    group.throughput(Throughput::Elements(1));
    group.bench_function("of_account_system", |b| {
        b.iter(|| LtHash::of_account(black_box(&key), black_box(&system_old)))
    });
    group.bench_function("update_system", |b| {
        let mut delta = LtHash::identity();
        b.iter(|| delta.update(black_box(&key), Some(&system_old), black_box(&system_new)))
    });
    group.bench_function("update_token", |b| {
        let mut delta = LtHash::identity();
        b.iter(|| delta.update(black_box(&key), Some(&token_old), black_box(&token_new)))
    });
    group.finish();
}

criterion_group!(benches, wire, sigverify, execute, state_hash);
criterion_main!(benches);
