//! Each instruction through the harness: its happy path with exact balances, and each of its
//! errors with the exact `InstructionError` and no state change.

#![allow(clippy::arithmetic_side_effects)] // small, known amounts in test code

mod common;

use braid_program_amm::curve::{self, INITIAL_SWAP_POOL_AMOUNT};
use braid_program_amm::instruction::{self as ix, TradeDirection};
use braid_program_amm::processor::{DECODE_UNITS, SWAP_UNITS};
use braid_program_amm::state::POOL_VERSION;
use braid_program_amm::{AmmError, Fees, POOL_BYTES, pool_authority};
use braid_program_token::{TOKEN_INSTRUCTION_UNITS, TokenAccount, TokenError};
use braid_runtime::invoke_context::INVOKE_COMPUTE_UNITS;
use braid_runtime::keypair::Keypair;
use braid_runtime::{Account, Instruction, InstructionError};
use common::{ACCOUNT_LAMPORTS, Env, FEES, Setup, User, pool, pool_with_fees, token_state};

const RESERVE_A: u64 = 1_000_000;
const RESERVE_B: u64 = 4_000_000;
const NO_FEES: Fees = Fees {
    trade_fee_numerator: 0,
    trade_fee_denominator: 0,
    protocol_fee_numerator: 0,
    protocol_fee_denominator: 0,
};

// ---------------------------------------------------------------- InitializePool

#[test]
fn initialize_pool_mints_the_initial_supply() {
    let mut env = Env::new();
    let setup = Setup::new(&mut env, RESERVE_A, RESERVE_B);
    env.send(&[setup.initialize_ix(FEES)], &[]).unwrap();
    let (authority, bump) = pool_authority(&setup.keys.pool);
    let pool = env.pool(&setup.keys.pool);
    assert_eq!(pool.version, POOL_VERSION);
    assert_eq!(pool.authority, authority);
    assert_eq!(pool.authority_bump, bump);
    assert_eq!(pool.token_a_vault, setup.keys.token_a_vault);
    assert_eq!(pool.token_b_vault, setup.keys.token_b_vault);
    assert_eq!(pool.token_a_mint, setup.mint_a);
    assert_eq!(pool.token_b_mint, setup.mint_b);
    assert_eq!(pool.pool_mint, setup.keys.pool_mint);
    assert_eq!(pool.fee_account, setup.keys.fee_account);
    assert_eq!(pool.fees, FEES);
    assert_eq!(env.balance(&setup.creator_lp), INITIAL_SWAP_POOL_AMOUNT);
    assert_eq!(
        env.mint(&setup.keys.pool_mint).supply,
        INITIAL_SWAP_POOL_AMOUNT
    );
    assert_eq!(env.balance(&setup.keys.token_a_vault), RESERVE_A);
    assert_eq!(env.balance(&setup.keys.token_b_vault), RESERVE_B);
    assert_eq!(
        env.h.get_account(&setup.keys.pool).unwrap().data.len(),
        POOL_BYTES
    );
}

/// Sets up a pool, lets `tamper` change the setup or the instruction, and expects `error`.
fn expect_initialize_error(
    tamper: impl FnOnce(&mut Env, &Setup, &mut Instruction),
    error: impl Into<InstructionError>,
) {
    let mut env = Env::new();
    let setup = Setup::new(&mut env, RESERVE_A, RESERVE_B);
    let mut instruction = setup.initialize_ix(FEES);
    tamper(&mut env, &setup, &mut instruction);
    env.expect_error(&[instruction], &[], 0, error);
}

#[test]
fn initialize_pool_twice_fails() {
    let (mut env, setup) = pool(RESERVE_A, RESERVE_B);
    env.expect_error(&[setup.initialize_ix(FEES)], &[], 0, AmmError::AlreadyInUse);
}

#[test]
fn initialize_pool_account_checks() {
    expect_initialize_error(
        |env, setup, _| {
            let account = Account::new(ACCOUNT_LAMPORTS, POOL_BYTES, &braid_program_token::ID);
            env.h.set_account(setup.keys.pool, account);
        },
        InstructionError::IncorrectProgramId,
    );
    expect_initialize_error(
        |env, setup, _| {
            let account = Account::new(ACCOUNT_LAMPORTS, POOL_BYTES - 1, &braid_program_amm::ID);
            env.h.set_account(setup.keys.pool, account);
        },
        InstructionError::InvalidAccountData,
    );
    expect_initialize_error(
        |_, _, instruction| instruction.accounts[1].pubkey = Keypair::new().pubkey(),
        AmmError::InvalidProgramAddress,
    );
    expect_initialize_error(
        |_, _, instruction| instruction.accounts[7].pubkey = braid_runtime::SYSTEM_PROGRAM_ID,
        AmmError::IncorrectTokenProgramId,
    );
    expect_initialize_error(
        |env, setup, _| {
            let mut account = env.h.get_account(&setup.keys.token_a_vault).unwrap();
            account.owner = braid_program_amm::ID;
            env.h.set_account(setup.keys.token_a_vault, account);
        },
        AmmError::IncorrectTokenProgramId,
    );
    expect_initialize_error(
        |_, _, instruction| instruction.data = vec![9],
        InstructionError::InvalidInstructionData,
    );
}

#[test]
fn initialize_pool_vault_checks() {
    let stranger = Keypair::new().pubkey();
    expect_initialize_error(
        |env, setup, _| {
            env.set_token_state(
                &setup.keys.token_b_vault,
                token_state(&setup.mint_b, &stranger, RESERVE_B),
            );
        },
        AmmError::InvalidOwner,
    );
    expect_initialize_error(
        |env, setup, _| {
            let authority = setup.keys.authority();
            env.set_token_state(
                &setup.keys.token_b_vault,
                token_state(&setup.mint_a, &authority, RESERVE_B),
            );
        },
        AmmError::RepeatedMint,
    );
    expect_initialize_error(
        |env, setup, _| {
            let authority = setup.keys.authority();
            env.set_token_state(
                &setup.keys.token_a_vault,
                token_state(&setup.mint_a, &authority, 0),
            );
        },
        AmmError::EmptySupply,
    );
    expect_initialize_error(
        |env, setup, _| {
            let state = TokenAccount {
                delegate: Some(stranger),
                delegated_amount: 1,
                ..token_state(&setup.mint_a, &setup.keys.authority(), RESERVE_A)
            };
            env.set_token_state(&setup.keys.token_a_vault, state);
        },
        AmmError::InvalidDelegate,
    );
    expect_initialize_error(
        |env, setup, _| {
            let state = TokenAccount {
                close_authority: Some(stranger),
                ..token_state(&setup.mint_b, &setup.keys.authority(), RESERVE_B)
            };
            env.set_token_state(&setup.keys.token_b_vault, state);
        },
        AmmError::InvalidCloseAuthority,
    );
}

#[test]
fn initialize_pool_lp_checks() {
    let stranger = Keypair::new().pubkey();
    expect_initialize_error(
        |env, setup, _| env.set_mint(&setup.keys.pool_mint, Some(stranger), 0, None),
        AmmError::InvalidOwner,
    );
    expect_initialize_error(
        |env, setup, _| env.set_mint(&setup.keys.pool_mint, Some(setup.keys.authority()), 1, None),
        AmmError::InvalidSupply,
    );
    expect_initialize_error(
        |env, setup, _| {
            env.set_mint(
                &setup.keys.pool_mint,
                Some(setup.keys.authority()),
                0,
                Some(stranger),
            )
        },
        AmmError::InvalidFreezeAuthority,
    );
    expect_initialize_error(
        |env, setup, _| {
            env.set_token_state(
                &setup.keys.fee_account,
                token_state(&setup.mint_a, &stranger, 0),
            );
        },
        AmmError::IncorrectPoolMint,
    );
    expect_initialize_error(
        |env, setup, _| {
            let authority = setup.keys.authority();
            env.set_token_state(
                &setup.keys.fee_account,
                token_state(&setup.keys.pool_mint, &authority, 0),
            );
        },
        AmmError::InvalidOutputOwner,
    );
    expect_initialize_error(
        |env, setup, _| {
            let authority = setup.keys.authority();
            env.set_token_state(
                &setup.creator_lp,
                token_state(&setup.keys.pool_mint, &authority, 0),
            );
        },
        AmmError::InvalidOutputOwner,
    );
}

#[test]
fn initialize_pool_fee_checks() {
    for fees in [
        Fees {
            trade_fee_numerator: 1,
            trade_fee_denominator: 0,
            ..NO_FEES
        },
        Fees {
            protocol_fee_numerator: 10,
            protocol_fee_denominator: 10,
            ..NO_FEES
        },
        Fees {
            trade_fee_numerator: 1,
            trade_fee_denominator: 2,
            protocol_fee_numerator: 1,
            protocol_fee_denominator: 2,
        },
    ] {
        expect_initialize_error(
            move |_, setup, instruction| *instruction = setup.initialize_ix(fees),
            AmmError::InvalidFee,
        );
    }
}

// ---------------------------------------------------------------- Swap

/// A change to an otherwise valid instruction, paired with the error it must cause.
type Tamper<'a> = Box<dyn Fn(&mut Instruction) + 'a>;

fn swap_ix(
    setup: &Setup,
    user: &User,
    direction: TradeDirection,
    amount_in: u64,
    minimum_out: u64,
) -> Instruction {
    let (source, destination) = match direction {
        TradeDirection::AtoB => (user.a, user.b),
        TradeDirection::BtoA => (user.b, user.a),
    };
    ix::swap(
        &setup.keys,
        &user.key(),
        &source,
        &destination,
        direction,
        amount_in,
        minimum_out,
    )
}

#[test]
fn swap_a_to_b_pays_fees_and_mints_protocol_lp() {
    let (mut env, setup) = pool(RESERVE_A, RESERVE_B);
    let user = User::new(&mut env, &setup, 50_000, 0);
    // 10_000 in: trade fee 25, protocol fee 5, 9_970 reach the curve.
    // New B = ceil(4e12 / 1_009_970) = 3_960_514 (3_960_513.68), out = 39_486; the curve
    // charges ceil(4e12 / 3_960_514) - 1e6 = 9_970, so the user pays all 10_000.
    let expected = curve::swap(10_000, 0, RESERVE_A, RESERVE_B, &FEES).unwrap();
    assert_eq!(expected.amount_out, 39_486);
    assert_eq!((expected.trade_fee, expected.protocol_fee), (25, 5));
    assert_eq!(expected.amount_in, 10_000);
    let meta = env
        .send(
            &[swap_ix(&setup, &user, TradeDirection::AtoB, 10_000, 39_486)],
            &[&user.keypair],
        )
        .unwrap();
    assert_eq!(env.balance(&user.a), 40_000);
    assert_eq!(env.balance(&user.b), 39_486);
    assert_eq!(env.balance(&setup.keys.token_a_vault), RESERVE_A + 10_000);
    assert_eq!(env.balance(&setup.keys.token_b_vault), RESERVE_B - 39_486);
    // floor(1e9 * 5 / (2 * 1_010_000)) = 2_475.
    assert_eq!(env.balance(&setup.keys.fee_account), 2_475);
    assert_eq!(
        env.mint(&setup.keys.pool_mint).supply,
        INITIAL_SWAP_POOL_AMOUNT + 2_475
    );
    // Own work + three token calls (pay in, protocol fee mint, pay out).
    let cpi = INVOKE_COMPUTE_UNITS + TOKEN_INSTRUCTION_UNITS;
    assert_eq!(
        meta.compute_units_consumed,
        DECODE_UNITS + SWAP_UNITS + 3 * cpi
    );
}

#[test]
fn swap_b_to_a_without_fees_is_the_bare_curve() {
    let (mut env, setup) = pool_with_fees(30_000, 60_000, NO_FEES);
    let user = User::new(&mut env, &setup, 0, 1_000);
    // Reference vector (100, 60_000, 30_000) -> charged 99, out 49.
    let meta = env
        .send(
            &[swap_ix(&setup, &user, TradeDirection::BtoA, 100, 49)],
            &[&user.keypair],
        )
        .unwrap();
    assert_eq!(env.balance(&user.b), 1_000 - 99);
    assert_eq!(env.balance(&user.a), 49);
    assert_eq!(env.balance(&setup.keys.token_a_vault), 30_000 - 49);
    assert_eq!(env.balance(&setup.keys.token_b_vault), 60_000 + 99);
    assert_eq!(env.balance(&setup.keys.fee_account), 0);
    // No protocol fee: no mint call.
    let cpi = INVOKE_COMPUTE_UNITS + TOKEN_INSTRUCTION_UNITS;
    assert_eq!(
        meta.compute_units_consumed,
        DECODE_UNITS + SWAP_UNITS + 2 * cpi
    );
}

#[test]
fn swap_limits() {
    let (mut env, setup) = pool(RESERVE_A, RESERVE_B);
    let user = User::new(&mut env, &setup, 50_000, 0);
    let signers = [&user.keypair];
    env.expect_error(
        &[swap_ix(&setup, &user, TradeDirection::AtoB, 10_000, 39_487)],
        &signers,
        0,
        AmmError::SlippageExceeded,
    );
    // 2 tokens pay the two one-token minimum fees and nothing is left to trade.
    env.expect_error(
        &[swap_ix(&setup, &user, TradeDirection::AtoB, 2, 0)],
        &signers,
        0,
        AmmError::ZeroTradingTokens,
    );
    // 3 B pay one-token fees twice; the 1 B left is worth 0.25 A: zero.
    let poor = User::new(&mut env, &setup, 0, 10);
    env.expect_error(
        &[swap_ix(&setup, &poor, TradeDirection::BtoA, 3, 0)],
        &[&poor.keypair],
        0,
        AmmError::ZeroTradingTokens,
    );
    // More than the user holds: the token program refuses.
    env.expect_error(
        &[swap_ix(&setup, &user, TradeDirection::AtoB, 50_001, 0)],
        &signers,
        0,
        TokenError::InsufficientFunds,
    );
}

#[test]
fn swap_account_checks() {
    let (mut env, setup) = pool(RESERVE_A, RESERVE_B);
    let user = User::new(&mut env, &setup, 50_000, 50_000);
    let signers = [&user.keypair];
    let base = swap_ix(&setup, &user, TradeDirection::AtoB, 1_000, 0);
    let cases: Vec<(Tamper, InstructionError)> = vec![
        (
            Box::new(|i| i.accounts[1].pubkey = Keypair::new().pubkey()),
            AmmError::InvalidProgramAddress.into(),
        ),
        (
            Box::new(|i| i.accounts[2].is_signer = false),
            InstructionError::MissingRequiredSignature,
        ),
        (
            Box::new(|i| i.accounts[4].pubkey = user.b),
            AmmError::IncorrectSwapAccount.into(),
        ),
        (
            Box::new(|i| i.accounts[5].pubkey = setup.keys.token_a_vault),
            AmmError::InvalidInput.into(),
        ),
        (
            Box::new(|i| i.accounts[3].pubkey = setup.keys.token_a_vault),
            AmmError::InvalidInput.into(),
        ),
        (
            Box::new(|i| i.accounts[6].pubkey = setup.keys.token_b_vault),
            AmmError::InvalidInput.into(),
        ),
        (
            Box::new(|i| i.accounts[7].pubkey = user.lp),
            AmmError::IncorrectPoolMint.into(),
        ),
        (
            Box::new(|i| i.accounts[8].pubkey = user.lp),
            AmmError::IncorrectFeeAccount.into(),
        ),
        (
            Box::new(|i| i.accounts[9].pubkey = braid_runtime::SYSTEM_PROGRAM_ID),
            AmmError::IncorrectTokenProgramId.into(),
        ),
        // Paying with the other vault: the token program refuses it (its mint differs, and
        // only the pool authority could sign for it; the AMM never signs for a payer).
        (
            Box::new(|i| i.accounts[3].pubkey = setup.keys.token_b_vault),
            TokenError::MintMismatch.into(),
        ),
        // Paying token B into the A vault.
        (
            Box::new(|i| i.accounts[3].pubkey = user.b),
            TokenError::MintMismatch.into(),
        ),
        (
            Box::new(|i| i.data.truncate(5)),
            InstructionError::InvalidInstructionData,
        ),
    ];
    for (tamper, error) in cases {
        let mut instruction = base.clone();
        tamper(&mut instruction);
        // An instruction whose user no longer signs must be sent without that signature.
        let signers: &[&Keypair] = if instruction.accounts[2].is_signer {
            &signers
        } else {
            &[]
        };
        env.expect_error(&[instruction], signers, 0, error);
    }
}

#[test]
fn swap_needs_an_initialized_amm_pool() {
    let (mut env, setup) = pool(RESERVE_A, RESERVE_B);
    let user = User::new(&mut env, &setup, 50_000, 0);
    let instruction = swap_ix(&setup, &user, TradeDirection::AtoB, 1_000, 0);
    let mut account = env.h.get_account(&setup.keys.pool).unwrap();
    let initialized = account.clone();
    account.data.fill(0);
    env.h.set_account(setup.keys.pool, account.clone());
    env.expect_error(
        std::slice::from_ref(&instruction),
        &[&user.keypair],
        0,
        AmmError::Uninitialized,
    );
    account = initialized;
    account.owner = braid_program_token::ID;
    env.h.set_account(setup.keys.pool, account);
    env.expect_error(
        &[instruction],
        &[&user.keypair],
        0,
        InstructionError::IncorrectProgramId,
    );
}

// ---------------------------------------------------------------- DepositAll

fn deposit_ix(setup: &Setup, user: &User, pool_tokens: u64, max_a: u64, max_b: u64) -> Instruction {
    ix::deposit_all(
        &setup.keys,
        &user.key(),
        &user.a,
        &user.b,
        &user.lp,
        pool_tokens,
        max_a,
        max_b,
    )
}

#[test]
fn deposit_all_is_proportional_and_rounds_up() {
    let (mut env, setup) = pool(RESERVE_A, RESERVE_B);
    let user = User::new(&mut env, &setup, 10_000, 40_000);
    // 3_333_333 / 1e9 of (1e6, 4e6) = 3_333.333 -> 3_334, 13_333.332 -> 13_334.
    env.send(
        &[deposit_ix(&setup, &user, 3_333_333, 3_334, 13_334)],
        &[&user.keypair],
    )
    .unwrap();
    assert_eq!(env.balance(&user.lp), 3_333_333);
    assert_eq!(env.balance(&user.a), 10_000 - 3_334);
    assert_eq!(env.balance(&user.b), 40_000 - 13_334);
    assert_eq!(env.balance(&setup.keys.token_a_vault), RESERVE_A + 3_334);
    assert_eq!(env.balance(&setup.keys.token_b_vault), RESERVE_B + 13_334);
    assert_eq!(
        env.mint(&setup.keys.pool_mint).supply,
        INITIAL_SWAP_POOL_AMOUNT + 3_333_333
    );
}

#[test]
fn deposit_all_errors() {
    let (mut env, setup) = pool(RESERVE_A, RESERVE_B);
    let user = User::new(&mut env, &setup, 10_000, 40_000);
    let signers = [&user.keypair];
    env.expect_error(
        &[deposit_ix(&setup, &user, 3_333_333, 3_333, 13_334)],
        &signers,
        0,
        AmmError::SlippageExceeded,
    );
    env.expect_error(
        &[deposit_ix(&setup, &user, 3_333_333, 3_334, 13_333)],
        &signers,
        0,
        AmmError::SlippageExceeded,
    );
    // 100 LP tokens stand for 0.1 A: refused rather than rounded up to 1.
    env.expect_error(
        &[deposit_ix(&setup, &user, 100, 10, 10)],
        &signers,
        0,
        AmmError::ZeroTradingTokens,
    );
    env.expect_error(
        &[deposit_ix(&setup, &user, 100_000_000, u64::MAX, u64::MAX)],
        &signers,
        0,
        TokenError::InsufficientFunds,
    );
    let stranger_b = env.new_token_account(&setup.mint_b, &Keypair::new().pubkey(), 1_000_000);
    let base = deposit_ix(&setup, &user, 1_000_000, u64::MAX, u64::MAX);
    let cases: Vec<(Tamper, InstructionError)> = vec![
        (
            Box::new(|i| i.accounts[2].is_signer = false),
            InstructionError::MissingRequiredSignature,
        ),
        (
            Box::new(|i| i.accounts[5].pubkey = user.a),
            AmmError::IncorrectSwapAccount.into(),
        ),
        (
            Box::new(|i| i.accounts[6].pubkey = setup.keys.token_a_vault),
            AmmError::IncorrectSwapAccount.into(),
        ),
        (
            Box::new(|i| i.accounts[3].pubkey = setup.keys.token_a_vault),
            AmmError::InvalidInput.into(),
        ),
        (
            Box::new(|i| i.accounts[7].pubkey = user.lp),
            AmmError::IncorrectPoolMint.into(),
        ),
        (
            Box::new(|i| i.accounts[1].pubkey = setup.keys.pool),
            AmmError::InvalidProgramAddress.into(),
        ),
        // Paying A with the pool's B vault.
        (
            Box::new(|i| i.accounts[3].pubkey = setup.keys.token_b_vault),
            TokenError::MintMismatch.into(),
        ),
        // Paying B with someone else's B account.
        (
            Box::new(|i| i.accounts[4].pubkey = stranger_b),
            TokenError::OwnerMismatch.into(),
        ),
    ];
    for (tamper, error) in cases {
        let mut instruction = base.clone();
        tamper(&mut instruction);
        // An instruction whose user no longer signs must be sent without that signature.
        let signers: &[&Keypair] = if instruction.accounts[2].is_signer {
            &signers
        } else {
            &[]
        };
        env.expect_error(&[instruction], signers, 0, error);
    }
}

// ---------------------------------------------------------------- WithdrawAll

fn withdraw_ix(
    setup: &Setup,
    user: &User,
    pool_tokens: u64,
    min_a: u64,
    min_b: u64,
) -> Instruction {
    ix::withdraw_all(
        &setup.keys,
        &user.key(),
        &user.lp,
        &user.a,
        &user.b,
        pool_tokens,
        min_a,
        min_b,
    )
}

#[test]
fn withdraw_all_is_proportional_and_rounds_down() {
    let (mut env, setup) = pool(RESERVE_A, RESERVE_B);
    let user = User::new(&mut env, &setup, 10_000, 40_000);
    env.send(
        &[deposit_ix(&setup, &user, 3_333_333, 3_334, 13_334)],
        &[&user.keypair],
    )
    .unwrap();
    // Supply 1_003_333_333 over (1_003_334, 4_013_334): 3_333_333 LP is worth 3_333.33 A and
    // 13_333.33 B, paid as 3_333 and 13_333: one token less than deposited on each side.
    env.send(
        &[withdraw_ix(&setup, &user, 3_333_333, 3_333, 13_333)],
        &[&user.keypair],
    )
    .unwrap();
    assert_eq!(env.balance(&user.lp), 0);
    assert_eq!(env.balance(&user.a), 10_000 - 1);
    assert_eq!(env.balance(&user.b), 40_000 - 1);
    assert_eq!(env.balance(&setup.keys.token_a_vault), RESERVE_A + 1);
    assert_eq!(env.balance(&setup.keys.token_b_vault), RESERVE_B + 1);
    assert_eq!(
        env.mint(&setup.keys.pool_mint).supply,
        INITIAL_SWAP_POOL_AMOUNT
    );
}

#[test]
fn withdraw_everything_empties_the_pool() {
    let (mut env, setup) = pool(RESERVE_A, RESERVE_B);
    let creator = User {
        keypair: Keypair::from_bytes(&setup.creator.to_bytes()).unwrap(),
        a: env.new_token_account(&setup.mint_a, &setup.creator.pubkey(), 0),
        b: env.new_token_account(&setup.mint_b, &setup.creator.pubkey(), 0),
        lp: setup.creator_lp,
    };
    env.send(
        &[withdraw_ix(
            &setup,
            &creator,
            INITIAL_SWAP_POOL_AMOUNT,
            RESERVE_A,
            RESERVE_B,
        )],
        &[&creator.keypair],
    )
    .unwrap();
    assert_eq!(env.balance(&creator.a), RESERVE_A);
    assert_eq!(env.balance(&creator.b), RESERVE_B);
    assert_eq!(env.balance(&setup.keys.token_a_vault), 0);
    assert_eq!(env.mint(&setup.keys.pool_mint).supply, 0);
    // An empty pool cannot trade.
    let user = User::new(&mut env, &setup, 1_000, 0);
    env.expect_error(
        &[swap_ix(&setup, &user, TradeDirection::AtoB, 1_000, 0)],
        &[&user.keypair],
        0,
        AmmError::ZeroTradingTokens,
    );
}

#[test]
fn withdraw_all_errors() {
    let (mut env, setup) = pool(RESERVE_A, RESERVE_B);
    let user = User::new(&mut env, &setup, 10_000, 40_000);
    let signers = [&user.keypair];
    env.send(
        &[deposit_ix(&setup, &user, 3_333_333, 3_334, 13_334)],
        &signers,
    )
    .unwrap();
    env.expect_error(
        &[withdraw_ix(&setup, &user, 3_333_333, 3_334, 0)],
        &signers,
        0,
        AmmError::SlippageExceeded,
    );
    env.expect_error(
        &[withdraw_ix(&setup, &user, 3_333_333, 0, 13_334)],
        &signers,
        0,
        AmmError::SlippageExceeded,
    );
    env.expect_error(
        &[withdraw_ix(&setup, &user, 999, 0, 0)],
        &signers,
        0,
        AmmError::ZeroTradingTokens,
    );
    env.expect_error(
        &[withdraw_ix(&setup, &user, 3_333_334, 0, 0)],
        &signers,
        0,
        TokenError::InsufficientFunds,
    );
    let base = withdraw_ix(&setup, &user, 1_000_000, 0, 0);
    let cases: Vec<(Tamper, InstructionError)> = vec![
        (
            Box::new(|i| i.accounts[2].is_signer = false),
            InstructionError::MissingRequiredSignature,
        ),
        (
            Box::new(|i| i.accounts[3].pubkey = user.lp),
            AmmError::IncorrectPoolMint.into(),
        ),
        (
            Box::new(|i| i.accounts[5].pubkey = user.a),
            AmmError::IncorrectSwapAccount.into(),
        ),
        (
            Box::new(|i| i.accounts[7].pubkey = setup.keys.token_a_vault),
            AmmError::InvalidInput.into(),
        ),
        (
            Box::new(|i| i.accounts[8].pubkey = setup.keys.token_b_vault),
            AmmError::InvalidInput.into(),
        ),
        (
            Box::new(|i| i.accounts[9].pubkey = braid_runtime::SYSTEM_PROGRAM_ID),
            AmmError::IncorrectTokenProgramId.into(),
        ),
        // Burning someone else's LP tokens.
        (
            Box::new(|i| i.accounts[4].pubkey = setup.creator_lp),
            TokenError::OwnerMismatch.into(),
        ),
    ];
    for (tamper, error) in cases {
        let mut instruction = base.clone();
        tamper(&mut instruction);
        // An instruction whose user no longer signs must be sent without that signature.
        let signers: &[&Keypair] = if instruction.accounts[2].is_signer {
            &signers
        } else {
            &[]
        };
        env.expect_error(&[instruction], signers, 0, error);
    }
}
