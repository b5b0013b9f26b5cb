//! Each instruction in the harness: its happy path and each of its errors, with exact codes.

// Expected values are small constants; overflow would be a test bug, caught by debug asserts.
#![allow(clippy::arithmetic_side_effects)]

mod common;

use braid_program_insurance::{
    self as insurance, InsuranceError, POLICY_LAMPORTS, POSITION_LAMPORTS, PolicyRequest,
    PolicyStatus, PoolKeys, PoolParams,
};
use braid_program_system::SystemError;
use braid_program_token::TokenError;
use braid_runtime::keypair::Keypair;
use braid_runtime::{AccountMeta, InstructionError, TransactionError};
use common::{Env, PARAMS, USER_LAMPORTS, User};

/// Price before any drop, and the strike most policies use (feed units, 1e-6).
const PRICE: i64 = 2_000_000;
const STRIKE: i64 = 1_500_000;
const EXPIRY: u64 = 100;

fn request(policy_id: u64, coverage: u64) -> PolicyRequest {
    PolicyRequest {
        policy_id,
        coverage,
        strike_price: STRIKE,
        expiry_slot: EXPIRY,
    }
}

/// A pool with 10_000 of capital from one underwriter.
fn funded() -> (Env, User) {
    let mut env = Env::new(PARAMS, PRICE);
    let underwriter = env.underwriter(10_000);
    env.send_as(
        &underwriter.key,
        insurance::deposit(
            &env.keys,
            &underwriter.tokens,
            &underwriter.pubkey(),
            10_000,
        ),
    )
    .unwrap();
    (env, underwriter)
}

/// `funded` plus a buyer holding policy 0 (coverage 1_000: premium 25, locks 1_500).
fn with_policy() -> (Env, User, User) {
    let (mut env, underwriter) = funded();
    let buyer = env.user(1_000);
    env.send_as(
        &buyer.key,
        insurance::buy_policy(&env.keys, &buyer.tokens, &buyer.pubkey(), request(0, 1_000)),
    )
    .unwrap();
    (env, underwriter, buyer)
}

fn custom(error: InsuranceError) -> InstructionError {
    error.into()
}

// ---------------------------------------------------------------- InitializePool

#[test]
fn initialize_pool_records_params_and_keys() {
    let env = Env::new(PARAMS, PRICE);
    let pool = env.pool();
    assert_eq!(pool.mint, env.mint);
    assert_eq!(pool.vault, env.keys.vault);
    assert_eq!(pool.oracle_feed, env.keys.oracle_feed);
    assert_eq!(pool.authority, insurance::pool_authority(&env.keys.pool).0);
    assert_eq!(
        (
            pool.premium_rate_bps,
            pool.collateral_ratio_bps,
            pool.max_oracle_age_slots,
            pool.claim_grace_slots
        ),
        (250, 15_000, 10, 20)
    );
    assert_eq!(
        (
            pool.total_capital,
            pool.locked_capital,
            pool.total_shares,
            pool.active_coverage
        ),
        (0, 0, 0, 0)
    );
}

fn init_error(
    env: &mut Env,
    params: PoolParams,
    tweak: impl FnOnce(&mut Vec<braid_runtime::Instruction>),
) -> TransactionError {
    let (pool, vault) = (Keypair::new(), Keypair::new());
    let mut ixs = env.pool_instructions(&pool, &vault, params);
    tweak(&mut ixs);
    env.send(&ixs, &[&pool, &vault]).unwrap_err().err
}

#[test]
fn initialize_pool_errors() {
    let mut env = Env::new(PARAMS, PRICE);
    let bad = PoolParams {
        collateral_ratio_bps: 9_999,
        ..PARAMS
    };
    assert_eq!(
        init_error(&mut env, bad, |_| {}),
        TransactionError::InstructionError(3, custom(InsuranceError::InvalidPoolParams))
    );
    let bad = PoolParams {
        premium_rate_bps: 0,
        ..PARAMS
    };
    assert_eq!(
        init_error(&mut env, bad, |_| {}),
        TransactionError::InstructionError(3, custom(InsuranceError::InvalidPoolParams))
    );
    // A vault owned by someone other than the pool authority.
    let stranger = env.create_token_account(&Keypair::new().pubkey());
    assert_eq!(
        init_error(&mut env, PARAMS, |ixs| ixs[3].accounts[2].pubkey = stranger),
        TransactionError::InstructionError(3, custom(InsuranceError::WrongVault))
    );
    // A feed that is not an oracle feed (the mint).
    let mint = env.mint;
    assert_eq!(
        init_error(&mut env, PARAMS, |ixs| ixs[3].accounts[3].pubkey = mint),
        TransactionError::InstructionError(3, custom(InsuranceError::WrongOracle))
    );
    // A "mint" that is a token account.
    assert_eq!(
        init_error(&mut env, PARAMS, |ixs| ixs[3].accounts[1].pubkey = stranger),
        TransactionError::InstructionError(3, InstructionError::InvalidAccountData)
    );
    // Initializing an existing pool again, even with its signature.
    let (pool, vault) = (Keypair::new(), Keypair::new());
    let ixs = env.pool_instructions(&pool, &vault, PARAMS);
    env.send(&ixs, &[&pool, &vault]).unwrap();
    let again = insurance::initialize_pool(
        &PoolKeys {
            pool: pool.pubkey(),
            vault: vault.pubkey(),
            oracle_feed: env.keys.oracle_feed,
        },
        &env.mint,
        PARAMS,
    );
    assert_eq!(
        env.send(&[again], &[&pool]).unwrap_err().err,
        TransactionError::InstructionError(0, custom(InsuranceError::AlreadyInitialized))
    );
    // Someone else's created but uninitialized pool account: without its signature, no
    // stranger may choose its oracle and parameters.
    let (pool, vault) = (Keypair::new(), Keypair::new());
    let mut ixs = env.pool_instructions(&pool, &vault, PARAMS);
    let init = ixs.pop().unwrap();
    env.send(&ixs, &[&pool, &vault]).unwrap();
    let mut hijack = init;
    hijack.accounts[0].is_signer = false;
    let payer = Keypair::new();
    env.h.airdrop(&payer.pubkey(), USER_LAMPORTS).unwrap();
    env.expect_error(&payer, hijack, InstructionError::MissingRequiredSignature);
    // A pool account the program does not own (signed, so the owner check is reached).
    let stranger_pool = Keypair::new();
    env.h.set_account(
        stranger_pool.pubkey(),
        braid_runtime::Account::new(1_000_000, insurance::POOL_BYTES, &env.payer.pubkey()),
    );
    let keys = PoolKeys {
        pool: stranger_pool.pubkey(),
        ..env.keys
    };
    assert_eq!(
        env.send(
            &[insurance::initialize_pool(&keys, &env.mint, PARAMS)],
            &[&stranger_pool]
        )
        .unwrap_err()
        .err,
        TransactionError::InstructionError(0, InstructionError::IncorrectProgramId)
    );
}

// ---------------------------------------------------------------- OpenPosition

#[test]
fn open_position_creates_an_empty_position() {
    let mut env = Env::new(PARAMS, PRICE);
    let user = env.underwriter(0);
    assert_eq!(env.position(&user.pubkey()).shares, 0);
    assert_eq!(env.position(&user.pubkey()).owner, user.pubkey());
    assert_eq!(
        env.h.get_balance(&user.pubkey()),
        USER_LAMPORTS - POSITION_LAMPORTS
    );
    // A second open fails in the System program: the address is in use.
    env.expect_error(
        &user.key,
        insurance::open_position(&env.keys.pool, &user.pubkey()),
        InstructionError::from(SystemError::AccountAlreadyInUse),
    );
}

#[test]
fn a_position_address_someone_prefunded_still_opens() {
    let mut env = Env::new(PARAMS, PRICE);
    let user = env.user(0);
    let (address, _) = insurance::position_address(&env.keys.pool, &user.pubkey());
    // A stranger (here the environment's payer) sends the address one lamport first.
    let payer = env.payer.pubkey();
    env.send(
        &[braid_program_system::instruction::transfer(
            &payer, &address, 1,
        )],
        &[],
    )
    .unwrap();
    env.send_as(
        &user.key,
        insurance::open_position(&env.keys.pool, &user.pubkey()),
    )
    .unwrap();
    assert_eq!(env.position(&user.pubkey()).owner, user.pubkey());
    assert_eq!(
        env.h.get_account(&address).unwrap().lamports,
        POSITION_LAMPORTS
    );
    // The owner paid only what the stranger did not.
    assert_eq!(
        env.h.get_balance(&user.pubkey()),
        USER_LAMPORTS - (POSITION_LAMPORTS - 1)
    );
}

#[test]
fn open_position_errors() {
    let mut env = Env::new(PARAMS, PRICE);
    let user = env.user(0);
    let other = Keypair::new().pubkey();
    let mut ix = insurance::open_position(&env.keys.pool, &user.pubkey());
    ix.accounts[1].pubkey = insurance::position_address(&env.keys.pool, &other).0;
    env.expect_error(&user.key, ix, InsuranceError::WrongPositionAddress);

    // The owner must sign (here someone else signs the transaction).
    let mut ix = insurance::open_position(&env.keys.pool, &user.pubkey());
    ix.accounts[0].is_signer = false;
    let signer = Keypair::new();
    ix.accounts
        .push(AccountMeta::new_readonly(signer.pubkey(), true));
    env.expect_error(&signer, ix, InstructionError::MissingRequiredSignature);

    // The pool must be a pool.
    let ix = insurance::open_position(&env.keys.vault, &user.pubkey());
    env.expect_error(&user.key, ix, InstructionError::IncorrectProgramId);
}

// ---------------------------------------------------------------- Deposit

#[test]
fn deposit_moves_tokens_and_mints_shares() {
    let (mut env, underwriter) = funded();
    assert_eq!(env.vault_balance(), 10_000);
    assert_eq!(env.balance(&underwriter.tokens), 0);
    assert_eq!(env.position(&underwriter.pubkey()).shares, 10_000);
    let pool = env.pool();
    assert_eq!((pool.total_capital, pool.total_shares), (10_000, 10_000));

    // After a premium each share is worth more: 1_000 × 10_000 / 10_025 = 997.5 → 997.
    let buyer = env.user(1_000);
    env.send_as(
        &buyer.key,
        insurance::buy_policy(&env.keys, &buyer.tokens, &buyer.pubkey(), request(0, 1_000)),
    )
    .unwrap();
    let second = env.underwriter(1_000);
    env.send_as(
        &second.key,
        insurance::deposit(&env.keys, &second.tokens, &second.pubkey(), 1_000),
    )
    .unwrap();
    assert_eq!(env.position(&second.pubkey()).shares, 997);
    assert_eq!(
        (env.pool().total_capital, env.pool().total_shares),
        (11_025, 10_997)
    );
    assert_eq!(env.vault_balance(), 11_025);
}

#[test]
fn deposit_errors() {
    let (mut env, underwriter, buyer) = with_policy();
    let keys = env.keys;
    let (u, t) = (underwriter.pubkey(), underwriter.tokens);
    let second = env.underwriter(100);
    let (s, st) = (second.pubkey(), second.tokens);

    env.expect_error(
        &second.key,
        insurance::deposit(&keys, &st, &s, 0),
        InsuranceError::ZeroAmount,
    );
    // 1 × 10_000 / 10_025 rounds to no share.
    env.expect_error(
        &second.key,
        insurance::deposit(&keys, &st, &s, 1),
        InsuranceError::DepositTooSmall,
    );
    env.expect_error(
        &second.key,
        insurance::deposit(&keys, &st, &s, 101),
        TokenError::InsufficientFunds,
    );

    // Someone else's position.
    let mut ix = insurance::deposit(&keys, &st, &s, 50);
    ix.accounts[1].pubkey = insurance::position_address(&keys.pool, &u).0;
    env.expect_error(&second.key, ix, InsuranceError::NotOwner);

    // A vault that is not the pool's.
    let mut ix = insurance::deposit(&keys, &st, &s, 50);
    ix.accounts[2].pubkey = t;
    env.expect_error(&second.key, ix, InsuranceError::WrongVault);

    // No position yet: the account does not exist, so the program does not own it.
    let newcomer = env.user(100);
    let ix = insurance::deposit(&keys, &newcomer.tokens, &newcomer.pubkey(), 50);
    env.expect_error(&newcomer.key, ix, InstructionError::IncorrectProgramId);

    // A policy passed as a position.
    let mut ix = insurance::deposit(&keys, &st, &s, 50);
    ix.accounts[1].pubkey = insurance::policy_address(&keys.pool, &buyer.pubkey(), 0).0;
    env.expect_error(&second.key, ix, InstructionError::InvalidAccountData);

    // Garbage instruction data.
    let mut ix = insurance::deposit(&keys, &st, &s, 50);
    ix.data = vec![200];
    env.expect_error(&second.key, ix, InstructionError::InvalidInstructionData);
}

// ---------------------------------------------------------------- Withdraw

#[test]
fn withdraw_pays_pro_rata_from_unlocked_capital() {
    let (mut env, underwriter, _) = with_policy();
    // Capital 10_025, locked 1_500, shares 10_000: 1_000 shares → 1_002.5 → 1_002.
    env.send_as(
        &underwriter.key,
        insurance::withdraw(&env.keys, &underwriter.tokens, &underwriter.pubkey(), 1_000),
    )
    .unwrap();
    assert_eq!(env.balance(&underwriter.tokens), 1_002);
    assert_eq!(env.vault_balance(), 10_025 - 1_002);
    assert_eq!(env.position(&underwriter.pubkey()).shares, 9_000);
    let pool = env.pool();
    assert_eq!(
        (pool.total_capital, pool.total_shares, pool.locked_capital),
        (9_023, 9_000, 1_500)
    );
}

#[test]
fn withdraw_errors() {
    let (mut env, underwriter, buyer) = with_policy();
    let keys = env.keys;
    let (u, t) = (underwriter.pubkey(), underwriter.tokens);
    let k = &underwriter.key;
    env.expect_error(
        k,
        insurance::withdraw(&keys, &t, &u, 0),
        InsuranceError::ZeroAmount,
    );
    env.expect_error(
        k,
        insurance::withdraw(&keys, &t, &u, 10_001),
        InsuranceError::InsufficientShares,
    );
    // All shares would take 10_025, but 1_500 is locked.
    env.expect_error(
        k,
        insurance::withdraw(&keys, &t, &u, 10_000),
        InsuranceError::InsufficientUnlockedCapital,
    );
    // 8_525 is unlocked: floor(s × 10_025 / 10_000) ≤ 8_525 holds up to s = 8_504.
    env.expect_error(
        k,
        insurance::withdraw(&keys, &t, &u, 8_505),
        InsuranceError::InsufficientUnlockedCapital,
    );

    let mut ix = insurance::withdraw(&keys, &t, &u, 10);
    ix.accounts[5].pubkey = buyer.pubkey();
    env.expect_error(k, ix, InsuranceError::WrongAuthority);

    let mut ix = insurance::withdraw(&keys, &t, &u, 10);
    ix.accounts[2].pubkey = buyer.tokens;
    env.expect_error(k, ix, InsuranceError::WrongVault);

    // The buyer signing for the underwriter's position.
    let mut ix = insurance::withdraw(&keys, &buyer.tokens, &buyer.pubkey(), 10);
    ix.accounts[1].pubkey = insurance::position_address(&keys.pool, &u).0;
    env.expect_error(&buyer.key, ix, InsuranceError::NotOwner);

    env.send_as(k, insurance::withdraw(&keys, &t, &u, 8_504))
        .unwrap();
    assert_eq!(env.balance(&t), 8_525);
    assert_eq!(env.pool().unlocked_capital(), 0);
}

// ---------------------------------------------------------------- BuyPolicy

#[test]
fn buy_policy_charges_premium_and_locks_capital() {
    let (mut env, _) = funded();
    let buyer = env.user(1_000);
    env.h.warp_to_slot(5);
    env.send_as(
        &buyer.key,
        insurance::buy_policy(&env.keys, &buyer.tokens, &buyer.pubkey(), request(7, 1_001)),
    )
    .unwrap();
    // Premium ceil(1_001 × 2.5%) = 26; locked ceil(1_001 × 150%) = 1_502.
    assert_eq!(env.balance(&buyer.tokens), 1_000 - 26);
    assert_eq!(env.vault_balance(), 10_026);
    let pool = env.pool();
    assert_eq!(
        (
            pool.total_capital,
            pool.locked_capital,
            pool.active_coverage
        ),
        (10_026, 1_502, 1_001)
    );
    let policy = env.policy(&buyer.pubkey(), 7);
    assert_eq!(
        (
            policy.coverage,
            policy.premium,
            policy.locked,
            policy.strike_price,
            policy.start_slot,
            policy.expiry_slot
        ),
        (1_001, 26, 1_502, STRIKE, 5, EXPIRY)
    );
    assert_eq!(policy.status, PolicyStatus::Active);
    assert_eq!(
        env.h.get_balance(&buyer.pubkey()),
        USER_LAMPORTS - POLICY_LAMPORTS
    );
}

#[test]
fn buy_policy_errors() {
    let (mut env, _) = funded();
    let keys = env.keys;
    let buyer = env.user(1_000);
    let (b, bt) = (buyer.pubkey(), buyer.tokens);
    let k = &buyer.key;
    let buy = |r: PolicyRequest| insurance::buy_policy(&keys, &bt, &b, r);

    // 10_000 of capital backs at most 6_666 of coverage at 150%.
    env.expect_error(
        k,
        buy(request(0, 6_667)),
        InsuranceError::InsufficientCapacity,
    );
    env.expect_error(k, buy(request(0, 0)), InsuranceError::ZeroAmount);
    env.expect_error(
        k,
        buy(PolicyRequest {
            strike_price: 0,
            ..request(0, 10)
        }),
        InsuranceError::InvalidStrike,
    );
    env.expect_error(
        k,
        buy(PolicyRequest {
            strike_price: PRICE,
            ..request(0, 10)
        }),
        InsuranceError::StrikeAlreadyReached,
    );
    env.expect_error(
        k,
        buy(PolicyRequest {
            expiry_slot: 0,
            ..request(0, 10)
        }),
        InsuranceError::InvalidExpiry,
    );
    let poor = env.user(10);
    let ix = insurance::buy_policy(&keys, &poor.tokens, &poor.pubkey(), request(0, 1_000));
    env.expect_error(&poor.key, ix, TokenError::InsufficientFunds);

    let mut ix = buy(request(0, 10));
    ix.accounts[1].pubkey = insurance::policy_address(&keys.pool, &b, 1).0;
    env.expect_error(k, ix, InsuranceError::WrongPolicyAddress);

    let mut ix = buy(request(0, 10));
    ix.accounts[5].pubkey = env.mint;
    env.expect_error(k, ix, InsuranceError::WrongOracle);

    let mut ix = buy(request(0, 10));
    ix.accounts[2].pubkey = bt;
    env.expect_error(k, ix, InsuranceError::WrongVault);

    // The price was set at slot 0; max age 10.
    env.h.warp_to_slot(11);
    env.expect_error(k, buy(request(0, 10)), InsuranceError::StalePrice);
    env.set_price(PRICE);

    env.send_as(k, buy(request(0, 10))).unwrap();
    // The same policy id again: the address is in use.
    env.expect_error(
        k,
        buy(request(0, 10)),
        InstructionError::from(SystemError::AccountAlreadyInUse),
    );
    env.send_as(k, buy(request(1, 10))).unwrap();
    assert_eq!(env.pool().active_coverage, 20);
}

// ---------------------------------------------------------------- Claim

#[test]
fn claim_pays_the_coverage_once() {
    let (mut env, _, buyer) = with_policy();
    env.h.warp_to_slot(50);
    env.set_price(STRIKE);
    let ix = insurance::claim(&env.keys, &buyer.pubkey(), 0, &buyer.tokens);
    env.send_as(&buyer.key, ix.clone()).unwrap();
    assert_eq!(env.balance(&buyer.tokens), 1_000 - 25 + 1_000);
    assert_eq!(env.vault_balance(), 10_025 - 1_000);
    let pool = env.pool();
    assert_eq!(
        (
            pool.total_capital,
            pool.locked_capital,
            pool.active_coverage
        ),
        (9_025, 0, 0)
    );
    assert_eq!(env.policy(&buyer.pubkey(), 0).status, PolicyStatus::Claimed);
    env.expect_error(&buyer.key, ix, InsuranceError::PolicyNotActive);
}

#[test]
fn claim_in_the_grace_period_uses_a_price_fresh_at_expiry() {
    let (mut env, _, buyer) = with_policy();
    env.h.warp_to_slot(EXPIRY - 10);
    env.set_price(STRIKE - 1);
    // 30 slots after the price, 20 after expiry: stale for a running policy, but it was
    // fresh at expiry and we are within the 20-slot grace period.
    env.h.warp_to_slot(EXPIRY + 20);
    env.send_as(
        &buyer.key,
        insurance::claim(&env.keys, &buyer.pubkey(), 0, &buyer.tokens),
    )
    .unwrap();
    assert_eq!(env.balance(&buyer.tokens), 1_975);
}

#[test]
fn claim_errors() {
    let (mut env, underwriter, buyer) = with_policy();
    let keys = env.keys;
    let (b, bt) = (buyer.pubkey(), buyer.tokens);
    let k = &buyer.key;
    let claim = || insurance::claim(&keys, &b, 0, &bt);

    env.expect_error(k, claim(), InsuranceError::StrikeNotReached);
    env.h.warp_to_slot(11);
    env.expect_error(k, claim(), InsuranceError::StalePrice);
    env.set_price(STRIKE);

    // Not the holder.
    let mut ix = insurance::claim(&keys, &underwriter.pubkey(), 0, &underwriter.tokens);
    ix.accounts[1].pubkey = insurance::policy_address(&keys.pool, &b, 0).0;
    env.expect_error(&underwriter.key, ix, InsuranceError::NotOwner);

    let mut ix = claim();
    ix.accounts[5].pubkey = underwriter.pubkey();
    env.expect_error(k, ix, InsuranceError::WrongAuthority);
    let mut ix = claim();
    ix.accounts[6].pubkey = env.mint;
    env.expect_error(k, ix, InsuranceError::WrongOracle);
    let mut ix = claim();
    ix.accounts[2].pubkey = underwriter.tokens;
    env.expect_error(k, ix, InsuranceError::WrongVault);
    // A policy that does not exist.
    env.expect_error(
        k,
        insurance::claim(&keys, &b, 9, &bt),
        InstructionError::IncorrectProgramId,
    );

    // After expiry, a price set after expiry never counts.
    env.h.warp_to_slot(EXPIRY + 1);
    env.set_price(STRIKE);
    env.expect_error(k, claim(), InsuranceError::PriceAfterExpiry);
    env.h.warp_to_slot(EXPIRY + 21);
    env.expect_error(k, claim(), InsuranceError::ClaimWindowClosed);
}

#[test]
fn grace_period_price_must_have_been_fresh_at_expiry() {
    let (mut env, _, buyer) = with_policy();
    env.h.warp_to_slot(EXPIRY - 11);
    env.set_price(STRIKE);
    env.h.warp_to_slot(EXPIRY + 1);
    env.expect_error(
        &buyer.key,
        insurance::claim(&env.keys, &buyer.pubkey(), 0, &buyer.tokens),
        InsuranceError::StalePrice,
    );
}

// ---------------------------------------------------------------- Expire

#[test]
fn expire_releases_locked_capital() {
    let (mut env, underwriter, buyer) = with_policy();
    let (policy, _) = insurance::policy_address(&env.keys.pool, &buyer.pubkey(), 0);
    let anyone = env.user(0);
    env.h.warp_to_slot(EXPIRY + 20);
    env.expect_error(
        &anyone.key,
        insurance::expire(&env.keys.pool, &policy),
        InsuranceError::PolicyNotExpired,
    );
    env.h.warp_to_slot(EXPIRY + 21);
    env.send_as(&anyone.key, insurance::expire(&env.keys.pool, &policy))
        .unwrap();
    let pool = env.pool();
    assert_eq!(
        (
            pool.total_capital,
            pool.locked_capital,
            pool.active_coverage
        ),
        (10_025, 0, 0)
    );
    assert_eq!(env.policy(&buyer.pubkey(), 0).status, PolicyStatus::Expired);
    env.expect_error(
        &anyone.key,
        insurance::expire(&env.keys.pool, &policy),
        InsuranceError::PolicyNotActive,
    );
    // A late claim on an expired policy.
    env.expect_error(
        &buyer.key,
        insurance::claim(&env.keys, &buyer.pubkey(), 0, &buyer.tokens),
        InsuranceError::PolicyNotActive,
    );
    // The underwriter can now take everything, premium included.
    env.send_as(
        &underwriter.key,
        insurance::withdraw(
            &env.keys,
            &underwriter.tokens,
            &underwriter.pubkey(),
            10_000,
        ),
    )
    .unwrap();
    assert_eq!(env.balance(&underwriter.tokens), 10_025);
    assert_eq!(env.vault_balance(), 0);
    assert_eq!(env.position(&underwriter.pubkey()).shares, 0);
}

#[test]
fn expire_errors() {
    let (mut env, underwriter, buyer) = with_policy();
    let (policy, _) = insurance::policy_address(&env.keys.pool, &buyer.pubkey(), 0);
    // A second pool on the same mint and feed: its pool with this pool's policy.
    let (pool2, vault2) = (Keypair::new(), Keypair::new());
    let ixs = env.pool_instructions(&pool2, &vault2, PARAMS);
    env.send(&ixs, &[&pool2, &vault2]).unwrap();
    env.h.warp_to_slot(EXPIRY + 21);
    env.expect_error(
        &buyer.key,
        insurance::expire(&pool2.pubkey(), &policy),
        InsuranceError::WrongPool,
    );
    // A position passed as a policy.
    let (position, _) = insurance::position_address(&env.keys.pool, &underwriter.pubkey());
    env.expect_error(
        &buyer.key,
        insurance::expire(&env.keys.pool, &position),
        InstructionError::InvalidAccountData,
    );
    // A policy given as the pool.
    env.expect_error(
        &buyer.key,
        insurance::expire(&policy, &policy),
        InstructionError::InvalidAccountData,
    );
}
