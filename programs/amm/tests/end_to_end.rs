//! One pool's life through the harness, built only from real instructions: mints and token
//! accounts created with the System and Token programs, the pool created and funded in one
//! transaction, a deposit, swaps both ways by several users, withdrawals. Every balance is
//! checked against figures worked out from the curve's formulas independently of the crate
//! (big-integer arithmetic in a separate script; the steps are in the comments).

#![allow(clippy::arithmetic_side_effects)] // small, known amounts in test code

mod common;

use braid_program_amm::curve::INITIAL_SWAP_POOL_AMOUNT;
use braid_program_amm::instruction::{self as ix, PoolKeys, TradeDirection};
use braid_program_amm::{POOL_BYTES, pool_authority};
use braid_program_system::instruction as system;
use braid_program_token::{ACCOUNT_LEN, MINT_LEN, instruction as token};
use braid_runtime::Pubkey;
use braid_runtime::keypair::Keypair;
use common::{ACCOUNT_LAMPORTS, Env, FEES};

fn create_mint(env: &mut Env, authority: &Pubkey, decimals: u8) -> Pubkey {
    let mint = Keypair::new();
    let payer = env.payer.pubkey();
    env.send(
        &[
            system::create_account(
                &payer,
                &mint.pubkey(),
                ACCOUNT_LAMPORTS,
                MINT_LEN as u64,
                &braid_program_token::ID,
            ),
            token::initialize_mint2(&mint.pubkey(), authority, None, decimals),
        ],
        &[&mint],
    )
    .expect("create mint");
    mint.pubkey()
}

fn create_token_account(env: &mut Env, mint: &Pubkey, owner: &Pubkey) -> Pubkey {
    let account = Keypair::new();
    let payer = env.payer.pubkey();
    env.send(
        &[
            system::create_account(
                &payer,
                &account.pubkey(),
                ACCOUNT_LAMPORTS,
                ACCOUNT_LEN as u64,
                &braid_program_token::ID,
            ),
            token::initialize_account3(&account.pubkey(), mint, owner),
        ],
        &[&account],
    )
    .expect("create token account");
    account.pubkey()
}

struct Trader {
    keypair: Keypair,
    a: Pubkey,
    b: Pubkey,
    lp: Pubkey,
}

impl Trader {
    fn new(env: &mut Env, mints: [&Pubkey; 3], a: u64, b: u64) -> Self {
        let keypair = Keypair::new();
        let owner = keypair.pubkey();
        let trader = Self {
            a: create_token_account(env, mints[0], &owner),
            b: create_token_account(env, mints[1], &owner),
            lp: create_token_account(env, mints[2], &owner),
            keypair,
        };
        let payer = env.payer.pubkey();
        env.send(
            &[
                token::mint_to(mints[0], &trader.a, &payer, a),
                token::mint_to(mints[1], &trader.b, &payer, b),
            ],
            &[],
        )
        .expect("fund trader");
        trader
    }

    fn balances(&self, env: &Env) -> (u64, u64, u64) {
        (
            env.balance(&self.a),
            env.balance(&self.b),
            env.balance(&self.lp),
        )
    }
}

#[test]
fn a_pool_from_creation_to_withdrawal() {
    let mut env = Env::new();
    let payer = env.payer.pubkey();
    let mint_a = create_mint(&mut env, &payer, 6);
    let mint_b = create_mint(&mut env, &payer, 9);

    // The pool's accounts: vaults and LP mint controlled by its authority.
    let pool = Keypair::new();
    let (authority, _) = pool_authority(&pool.pubkey());
    let pool_mint = create_mint(&mut env, &authority, 6);
    let keys = PoolKeys {
        pool: pool.pubkey(),
        token_a_vault: create_token_account(&mut env, &mint_a, &authority),
        token_b_vault: create_token_account(&mut env, &mint_b, &authority),
        pool_mint,
        fee_account: Keypair::new().pubkey(),
    };
    let fee_owner = Trader::new(&mut env, [&mint_a, &mint_b, &pool_mint], 0, 0);
    let keys = PoolKeys {
        fee_account: fee_owner.lp,
        ..keys
    };
    let mints = [&mint_a, &mint_b, &pool_mint];

    // The creator funds the vaults and initializes the pool in one transaction.
    let creator = Trader::new(&mut env, mints, 1_000_000, 2_000_000);
    let creator_key = creator.keypair.pubkey();
    env.send(
        &[
            system::create_account(
                &payer,
                &keys.pool,
                ACCOUNT_LAMPORTS,
                POOL_BYTES as u64,
                &braid_program_amm::ID,
            ),
            token::transfer(&creator.a, &keys.token_a_vault, &creator_key, 1_000_000),
            token::transfer(&creator.b, &keys.token_b_vault, &creator_key, 2_000_000),
            ix::initialize_pool(&keys, &creator.lp, FEES),
        ],
        &[&pool, &creator.keypair],
    )
    .expect("create pool");
    assert_eq!(creator.balances(&env), (0, 0, INITIAL_SWAP_POOL_AMOUNT));

    let alice = Trader::new(&mut env, mints, 500_000, 1_000_000);
    let bob = Trader::new(&mut env, mints, 100_000, 0);
    let carol = Trader::new(&mut env, mints, 0, 300_000);

    // Alice deposits for half the supply: exactly half the reserves, nothing to round.
    env.send(
        &[ix::deposit_all(
            &keys,
            &alice.keypair.pubkey(),
            &alice.a,
            &alice.b,
            &alice.lp,
            500_000_000,
            500_000,
            1_000_000,
        )],
        &[&alice.keypair],
    )
    .unwrap();
    assert_eq!(alice.balances(&env), (0, 0, 500_000_000));
    // Reserves (1_500_000, 3_000_000), supply 1_500_000_000.

    let swap = |env: &mut Env, t: &Trader, direction, amount_in, minimum_out| {
        let (source, destination) = match direction {
            TradeDirection::AtoB => (t.a, t.b),
            TradeDirection::BtoA => (t.b, t.a),
        };
        env.send(
            &[ix::swap(
                &keys,
                &t.keypair.pubkey(),
                &source,
                &destination,
                direction,
                amount_in,
                minimum_out,
            )],
            &[&t.keypair],
        )
        .unwrap();
    };

    // Bob, 60_000 A -> B. Fees: trade ceil(150) = 150, protocol ceil(30) = 30; 59_820 reach
    // the curve. k = 4.5e12; new B = ceil(4.5e12 / 1_559_820) = 2_884_949 (2_884_948.3), out
    // 3_000_000 - 2_884_949 = 115_051; the curve charges all 59_820, so Bob pays 60_000. Reserves
    // (1_560_000, 2_884_949). Protocol LP: floor(1.5e9 * 30 / (2 * 1_560_000)) = 14_423.
    swap(&mut env, &bob, TradeDirection::AtoB, 60_000, 115_051);
    assert_eq!(bob.balances(&env), (40_000, 115_051, 0));
    assert_eq!(env.balance(&keys.fee_account), 14_423);
    assert_eq!(env.balance(&keys.token_a_vault), 1_560_000);
    assert_eq!(env.balance(&keys.token_b_vault), 2_884_949);

    // Carol, 200_000 B -> A. Fees 500 + 100; 199_400 to the curve. k = 4_500_520_440_000;
    // new A = ceil(k / 3_084_349) = 1_459_148 (1_459_147.6), out 100_852; Carol pays 200_000.
    // Protocol LP: floor(1_500_014_423 * 100 / (2 * 3_084_949)) = 24_311.
    swap(&mut env, &carol, TradeDirection::BtoA, 200_000, 100_852);
    assert_eq!(carol.balances(&env), (100_852, 100_000, 0));
    assert_eq!(env.balance(&keys.fee_account), 14_423 + 24_311);
    assert_eq!(env.balance(&keys.token_a_vault), 1_459_148);
    assert_eq!(env.balance(&keys.token_b_vault), 3_084_949);

    // Bob swaps his B back (out 52_309, fees 288 + 58, protocol LP 13_594), Carol her A back
    // (out 213_451, fees 253 + 51, protocol LP 25_370). Bob lost to fees and to Carol's trade;
    // Carol, who sold B high and bought it back low, gained.
    swap(&mut env, &bob, TradeDirection::BtoA, 115_051, 52_309);
    swap(&mut env, &carol, TradeDirection::AtoB, 100_852, 213_451);
    assert_eq!(bob.balances(&env), (92_309, 0, 0));
    assert_eq!(carol.balances(&env), (0, 313_451, 0));
    assert_eq!(env.balance(&keys.fee_account), 77_698);
    assert_eq!(env.balance(&keys.token_a_vault), 1_507_691);
    assert_eq!(env.balance(&keys.token_b_vault), 2_986_549);
    assert_eq!(env.mint(&pool_mint).supply, 1_500_077_698);

    // Everyone withdraws everything: LP holders share the reserves, fees included.
    let withdraw = |env: &mut Env, t: &Trader| {
        let lp = env.balance(&t.lp);
        env.send(
            &[ix::withdraw_all(
                &keys,
                &t.keypair.pubkey(),
                &t.lp,
                &t.a,
                &t.b,
                lp,
                0,
                0,
            )],
            &[&t.keypair],
        )
        .unwrap();
    };
    withdraw(&mut env, &alice);
    // floor(500_000_000 * (1_507_691, 2_986_549) / 1_500_077_698).
    assert_eq!(alice.balances(&env), (502_537, 995_464, 0));
    withdraw(&mut env, &fee_owner);
    assert_eq!(fee_owner.balances(&env), (78, 154, 0));
    withdraw(&mut env, &creator);
    assert_eq!(creator.balances(&env), (1_005_076, 1_990_931, 0));
    // The last LP holder takes the last token.
    assert_eq!(env.balance(&keys.token_a_vault), 0);
    assert_eq!(env.balance(&keys.token_b_vault), 0);
    assert_eq!(env.mint(&pool_mint).supply, 0);

    // Conservation: every token minted is held by a trader.
    let total = |i: usize| -> u64 {
        [&creator, &alice, &bob, &carol, &fee_owner]
            .iter()
            .map(|t| [t.balances(&env).0, t.balances(&env).1][i])
            .sum()
    };
    assert_eq!(total(0), 1_000_000 + 500_000 + 100_000);
    assert_eq!(total(1), 2_000_000 + 1_000_000 + 300_000);
    assert_eq!(env.mint(&mint_a).supply, total(0));
    assert_eq!(env.mint(&mint_b).supply, total(1));
}
