//! A harness with the System, Token and AMM programs and a pool fixture.
//!
//! Token mints and accounts for unit tests are written straight into the harness in SPL's
//! packed layouts (as the token program would have left them) so each test sends only the
//! transactions it is about; the end-to-end test builds everything with real instructions.

#![allow(dead_code)]
// `FailedTransaction` is the harness's own (large) error type.
#![allow(clippy::result_large_err)]

use braid_program_amm::instruction::{self as amm_instruction, PoolKeys};
use braid_program_amm::{AmmProgram, Fees, POOL_BYTES, Pool};
use braid_program_token::{AccountState, Mint, TokenAccount, TokenProgram};
use braid_runtime::harness::{FailedTransaction, Harness, TransactionMeta};
use braid_runtime::keypair::Keypair;
use braid_runtime::{
    Account, Instruction, InstructionError, Pubkey, Transaction, TransactionError,
};

use borsh::BorshDeserialize;

/// Lamports every fixture account holds (Braid has no rent).
pub const ACCOUNT_LAMPORTS: u64 = 2_039_280;
/// Lamports the payer starts with.
pub const PAYER_LAMPORTS: u64 = 1_000_000_000_000;

/// 0.25% trade fee and 0.05% protocol fee, SPL token-swap's defaults.
pub const FEES: Fees = Fees {
    trade_fee_numerator: 25,
    trade_fee_denominator: 10_000,
    protocol_fee_numerator: 5,
    protocol_fee_denominator: 10_000,
};

pub struct Env {
    pub h: Harness,
    pub payer: Keypair,
}

impl Env {
    pub fn new() -> Self {
        let mut h = Harness::new();
        h.add_program(braid_program_system::SystemProgram)
            .add_program(TokenProgram)
            .add_program(AmmProgram);
        let payer = Keypair::new();
        h.airdrop(&payer.pubkey(), PAYER_LAMPORTS).unwrap();
        Self { h, payer }
    }

    /// Signs `instructions` with the payer and `signers` over a fresh blockhash (so identical
    /// instructions sent twice are not a replay) and sends them.
    pub fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TransactionMeta, FailedTransaction> {
        self.h.expire_blockhash();
        let mut all = vec![&self.payer];
        all.extend_from_slice(signers);
        let tx = Transaction::new_signed_with_payer(
            instructions,
            Some(&self.payer.pubkey()),
            &all,
            self.h.latest_blockhash(),
        );
        self.h.send_transaction(tx)
    }

    /// Every account, in key order.
    pub fn snapshot(&self) -> Vec<(Pubkey, Account)> {
        self.h
            .accounts()
            .iter()
            .map(|(key, account)| (*key, account.clone()))
            .collect()
    }

    /// Sends, expects `InstructionError(index, error)` exactly, and checks that nothing
    /// changed but the payer's balance, by the fee.
    pub fn expect_error(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        index: u8,
        error: impl Into<InstructionError>,
    ) {
        let before = self.snapshot();
        let failed = self
            .send(instructions, signers)
            .expect_err("transaction should fail");
        let expected = TransactionError::InstructionError(index, error.into());
        assert_eq!(failed.err, expected, "logs: {:#?}", failed.meta.logs);
        let payer = self.payer.pubkey();
        let mut after = self.snapshot();
        for (key, account) in &mut after {
            if *key == payer {
                account.lamports = account.lamports.checked_add(failed.meta.fee).unwrap();
            }
        }
        assert_eq!(
            before, after,
            "a failed transaction changes nothing but the fee"
        );
    }

    /// Writes a mint.
    pub fn set_mint(
        &mut self,
        key: &Pubkey,
        authority: Option<Pubkey>,
        supply: u64,
        freeze: Option<Pubkey>,
    ) {
        let mint = Mint {
            mint_authority: authority,
            supply,
            decimals: 6,
            is_initialized: true,
            freeze_authority: freeze,
        };
        self.h.set_account(
            *key,
            Account::with_data(
                ACCOUNT_LAMPORTS,
                mint.pack().to_vec(),
                &braid_program_token::ID,
            ),
        );
    }

    /// A new mint whose authority is the payer.
    pub fn new_mint(&mut self) -> Pubkey {
        let key = Keypair::new().pubkey();
        self.set_mint(&key, Some(self.payer.pubkey()), 0, None);
        key
    }

    /// Writes a token account in `state`, adding `amount` to the mint's supply (so a mint's
    /// supply stays the sum of its accounts).
    pub fn set_token_state(&mut self, key: &Pubkey, state: TokenAccount) {
        let mut mint = self.mint(&state.mint);
        mint.supply = mint.supply.checked_add(state.amount).unwrap();
        let mint_account = Account::with_data(
            ACCOUNT_LAMPORTS,
            mint.pack().to_vec(),
            &braid_program_token::ID,
        );
        self.h.set_account(state.mint, mint_account);
        self.h.set_account(
            *key,
            Account::with_data(
                ACCOUNT_LAMPORTS,
                state.pack().to_vec(),
                &braid_program_token::ID,
            ),
        );
    }

    /// A new token account of `mint` for `owner` holding `amount`.
    pub fn new_token_account(&mut self, mint: &Pubkey, owner: &Pubkey, amount: u64) -> Pubkey {
        let key = Keypair::new().pubkey();
        self.set_token_state(&key, token_state(mint, owner, amount));
        key
    }

    pub fn mint(&self, key: &Pubkey) -> Mint {
        Mint::unpack(&self.h.get_account(key).expect("mint exists").data).expect("valid mint")
    }

    pub fn token(&self, key: &Pubkey) -> TokenAccount {
        TokenAccount::unpack(&self.h.get_account(key).expect("account exists").data)
            .expect("valid token account")
    }

    pub fn balance(&self, key: &Pubkey) -> u64 {
        self.token(key).amount
    }

    pub fn pool(&self, key: &Pubkey) -> Pool {
        Pool::try_from_slice(&self.h.get_account(key).expect("pool exists").data)
            .expect("valid pool")
    }
}

/// An initialized token account state.
pub fn token_state(mint: &Pubkey, owner: &Pubkey, amount: u64) -> TokenAccount {
    TokenAccount {
        mint: *mint,
        owner: *owner,
        amount,
        state: AccountState::Initialized,
        ..TokenAccount::default()
    }
}

/// Everything `InitializePool` needs, written into the harness but not yet initialized.
pub struct Setup {
    pub keys: PoolKeys,
    pub mint_a: Pubkey,
    pub mint_b: Pubkey,
    /// Owner of the protocol fee account.
    pub fee_owner: Keypair,
    /// The creator's LP account, which receives the initial supply.
    pub creator_lp: Pubkey,
    pub creator: Keypair,
}

impl Setup {
    /// Two mints, funded vaults owned by the pool authority, an LP mint controlled by it, a
    /// fee account and a creator LP account, and a zeroed AMM-owned pool account.
    pub fn new(env: &mut Env, reserve_a: u64, reserve_b: u64) -> Self {
        let pool = Keypair::new().pubkey();
        let (authority, _) = braid_program_amm::pool_authority(&pool);
        let mint_a = env.new_mint();
        let mint_b = env.new_mint();
        let pool_mint = Keypair::new().pubkey();
        env.set_mint(&pool_mint, Some(authority), 0, None);
        let token_a_vault = env.new_token_account(&mint_a, &authority, reserve_a);
        let token_b_vault = env.new_token_account(&mint_b, &authority, reserve_b);
        let fee_owner = Keypair::new();
        let fee_account = env.new_token_account(&pool_mint, &fee_owner.pubkey(), 0);
        let creator = Keypair::new();
        env.h.airdrop(&creator.pubkey(), ACCOUNT_LAMPORTS).unwrap();
        let creator_lp = env.new_token_account(&pool_mint, &creator.pubkey(), 0);
        env.h.set_account(
            pool,
            Account::new(ACCOUNT_LAMPORTS, POOL_BYTES, &braid_program_amm::ID),
        );
        Self {
            keys: PoolKeys {
                pool,
                token_a_vault,
                token_b_vault,
                pool_mint,
                fee_account,
            },
            mint_a,
            mint_b,
            fee_owner,
            creator_lp,
            creator,
        }
    }

    pub fn initialize_ix(&self, fees: Fees) -> Instruction {
        amm_instruction::initialize_pool(&self.keys, &self.creator_lp, fees)
    }
}

/// A trader with token accounts for A, B and LP, and lamports for nothing (the payer pays).
pub struct User {
    pub keypair: Keypair,
    pub a: Pubkey,
    pub b: Pubkey,
    pub lp: Pubkey,
}

impl User {
    pub fn new(env: &mut Env, setup: &Setup, a: u64, b: u64) -> Self {
        let keypair = Keypair::new();
        let owner = keypair.pubkey();
        Self {
            a: env.new_token_account(&setup.mint_a, &owner, a),
            b: env.new_token_account(&setup.mint_b, &owner, b),
            lp: env.new_token_account(&setup.keys.pool_mint, &owner, 0),
            keypair,
        }
    }

    pub fn key(&self) -> Pubkey {
        self.keypair.pubkey()
    }
}

/// An initialized pool with `FEES`.
pub fn pool(reserve_a: u64, reserve_b: u64) -> (Env, Setup) {
    pool_with_fees(reserve_a, reserve_b, FEES)
}

pub fn pool_with_fees(reserve_a: u64, reserve_b: u64, fees: Fees) -> (Env, Setup) {
    let mut env = Env::new();
    let setup = Setup::new(&mut env, reserve_a, reserve_b);
    env.send(&[setup.initialize_ix(fees)], &[])
        .expect("initialize pool");
    (env, setup)
}

pub mod model;
