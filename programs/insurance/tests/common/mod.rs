//! A harness with the System, Token, Oracle and Insurance programs, and helpers that set up
//! what a client would: a mint, token accounts, an oracle feed and a pool.

#![allow(dead_code)]
// `FailedTransaction` is the harness's own (large) error type.
#![allow(clippy::result_large_err)]

use braid_program_insurance::{
    self as insurance, InsuranceProgram, POOL_BYTES, Policy, PoolKeys, PoolParams, Position,
    pool_authority,
};
use braid_program_oracle::{FEED_BYTES, OracleProgram};
use braid_program_system::SystemProgram;
use braid_program_system::instruction::create_account;
use braid_program_token::{ACCOUNT_LEN, MINT_LEN, TokenAccount, TokenProgram};
use braid_runtime::harness::{FailedTransaction, Harness, TransactionMeta};
use braid_runtime::keypair::Keypair;
use braid_runtime::{Instruction, InstructionError, Pubkey, Transaction, TransactionError};

/// Lamports the payer starts with.
pub const PAYER_LAMPORTS: u64 = 1_000_000_000_000;
/// Lamports each user starts with (pays for positions and policies).
pub const USER_LAMPORTS: u64 = 100_000_000;
/// Lamports given to each created account (no rent in Braid).
pub const ACCOUNT_LAMPORTS: u64 = 2_000_000;
/// The feed's exponent: prices are in millionths.
pub const EXPONENT: i32 = -6;
/// Default pool parameters: 2.5% premium, 150% collateral, 10-slot oracle age, 20-slot grace.
pub const PARAMS: PoolParams = PoolParams {
    premium_rate_bps: 250,
    collateral_ratio_bps: 15_000,
    max_oracle_age_slots: 10,
    claim_grace_slots: 20,
};

/// A user: a keypair with lamports and a token account of the pool's mint.
pub struct User {
    pub key: Keypair,
    pub tokens: Pubkey,
}

impl User {
    pub fn pubkey(&self) -> Pubkey {
        self.key.pubkey()
    }
}

/// Signs with `payer` and `signers` over a fresh blockhash (so identical instructions are
/// never a replay) and sends.
pub fn send(
    h: &mut Harness,
    payer: &Keypair,
    instructions: &[Instruction],
    signers: &[&Keypair],
) -> Result<TransactionMeta, FailedTransaction> {
    h.expire_blockhash();
    let mut all = vec![payer];
    all.extend_from_slice(signers);
    let tx = Transaction::new_signed_with_payer(
        instructions,
        Some(&payer.pubkey()),
        &all,
        h.latest_blockhash(),
    );
    h.send_transaction(tx)
}

pub struct Env {
    pub h: Harness,
    pub payer: Keypair,
    pub mint_authority: Keypair,
    pub oracle_authority: Keypair,
    pub mint: Pubkey,
    pub keys: PoolKeys,
}

impl Env {
    /// A harness with a mint, an oracle feed priced at `initial_price` (slot 0) and a pool
    /// with `params`.
    pub fn new(params: PoolParams, initial_price: i64) -> Self {
        let mut h = Harness::new();
        h.add_program(SystemProgram)
            .add_program(TokenProgram)
            .add_program(OracleProgram)
            .add_program(InsuranceProgram);
        let payer = Keypair::new();
        h.airdrop(&payer.pubkey(), PAYER_LAMPORTS).unwrap();
        let mut env = Self {
            h,
            payer,
            mint_authority: Keypair::new(),
            oracle_authority: Keypair::new(),
            mint: Pubkey::default(),
            keys: PoolKeys {
                pool: Pubkey::default(),
                vault: Pubkey::default(),
                oracle_feed: Pubkey::default(),
            },
        };
        env.mint = env.create_mint();
        env.keys.oracle_feed = env.create_feed();
        env.set_price(initial_price);
        env.keys = env.create_pool(params);
        env
    }

    /// Signs with the payer and `signers` over a fresh blockhash and sends.
    pub fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TransactionMeta, FailedTransaction> {
        send(&mut self.h, &self.payer, instructions, signers)
    }

    /// Sends one instruction on behalf of `user` (the payer pays the fee).
    /// `user` signs only if the instruction asks for its signature (e.g. `Expire` asks none).
    pub fn send_as(&mut self, user: &Keypair, ix: Instruction) -> Result<(), TransactionError> {
        let signs = ix
            .accounts
            .iter()
            .any(|meta| meta.is_signer && meta.pubkey == user.pubkey());
        let signers: &[&Keypair] = if signs { &[user] } else { &[] };
        self.send(&[ix], signers)
            .map(|_| ())
            .map_err(|failed| failed.err)
    }

    /// Sends and expects the single instruction to fail with `error`, changing nothing.
    pub fn expect_error(
        &mut self,
        user: &Keypair,
        ix: Instruction,
        error: impl Into<InstructionError>,
    ) {
        let before: Vec<_> = self
            .h
            .accounts()
            .iter()
            .filter(|(k, _)| **k != self.payer.pubkey())
            .map(|(k, a)| (*k, a.clone()))
            .collect();
        assert_eq!(
            self.send_as(user, ix),
            Err(TransactionError::InstructionError(0, error.into()))
        );
        let after: Vec<_> = self
            .h
            .accounts()
            .iter()
            .filter(|(k, _)| **k != self.payer.pubkey())
            .map(|(k, a)| (*k, a.clone()))
            .collect();
        assert_eq!(
            before, after,
            "a failed transaction changes nothing but the fee"
        );
    }

    fn create_mint(&mut self) -> Pubkey {
        let mint = Keypair::new();
        let ixs = [
            create_account(
                &self.payer.pubkey(),
                &mint.pubkey(),
                ACCOUNT_LAMPORTS,
                MINT_LEN as u64,
                &braid_program_token::ID,
            ),
            braid_program_token::instruction::initialize_mint2(
                &mint.pubkey(),
                &self.mint_authority.pubkey(),
                None,
                6,
            ),
        ];
        self.send(&ixs, &[&mint]).expect("create mint");
        mint.pubkey()
    }

    /// A token account of the pool's mint owned by `owner`.
    pub fn create_token_account(&mut self, owner: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let ixs = [
            create_account(
                &self.payer.pubkey(),
                &account.pubkey(),
                ACCOUNT_LAMPORTS,
                ACCOUNT_LEN as u64,
                &braid_program_token::ID,
            ),
            braid_program_token::instruction::initialize_account3(
                &account.pubkey(),
                &self.mint,
                owner,
            ),
        ];
        self.send(&ixs, &[&account]).expect("create token account");
        account.pubkey()
    }

    fn create_feed(&mut self) -> Pubkey {
        let feed = Keypair::new();
        let ixs = [
            create_account(
                &self.payer.pubkey(),
                &feed.pubkey(),
                ACCOUNT_LAMPORTS,
                FEED_BYTES as u64,
                &braid_program_oracle::ID,
            ),
            braid_program_oracle::initialize_feed(
                &feed.pubkey(),
                &self.oracle_authority.pubkey(),
                EXPONENT,
            ),
        ];
        send(
            &mut self.h,
            &self.payer,
            &ixs,
            &[&feed, &self.oracle_authority],
        )
        .expect("create feed");
        feed.pubkey()
    }

    /// The instructions that create a pool's account and vault and initialize it.
    pub fn pool_instructions(
        &self,
        pool: &Keypair,
        vault: &Keypair,
        params: PoolParams,
    ) -> Vec<Instruction> {
        let (authority, _) = pool_authority(&pool.pubkey());
        let keys = PoolKeys {
            pool: pool.pubkey(),
            vault: vault.pubkey(),
            oracle_feed: self.keys.oracle_feed,
        };
        vec![
            create_account(
                &self.payer.pubkey(),
                &pool.pubkey(),
                ACCOUNT_LAMPORTS,
                POOL_BYTES as u64,
                &insurance::ID,
            ),
            create_account(
                &self.payer.pubkey(),
                &vault.pubkey(),
                ACCOUNT_LAMPORTS,
                ACCOUNT_LEN as u64,
                &braid_program_token::ID,
            ),
            braid_program_token::instruction::initialize_account3(
                &vault.pubkey(),
                &self.mint,
                &authority,
            ),
            insurance::initialize_pool(&keys, &self.mint, params),
        ]
    }

    fn create_pool(&mut self, params: PoolParams) -> PoolKeys {
        let (pool, vault) = (Keypair::new(), Keypair::new());
        let ixs = self.pool_instructions(&pool, &vault, params);
        self.send(&ixs, &[&pool, &vault]).expect("create pool");
        PoolKeys {
            pool: pool.pubkey(),
            vault: vault.pubkey(),
            oracle_feed: self.keys.oracle_feed,
        }
    }

    /// Sets the oracle price at the current slot.
    pub fn set_price(&mut self, price: i64) {
        let ix = braid_program_oracle::set_price(
            &self.keys.oracle_feed,
            &self.oracle_authority.pubkey(),
            price,
            0,
        );
        send(&mut self.h, &self.payer, &[ix], &[&self.oracle_authority]).expect("set price");
    }

    /// A funded user with `tokens` in a fresh token account.
    pub fn user(&mut self, tokens: u64) -> User {
        let key = Keypair::new();
        self.h.airdrop(&key.pubkey(), USER_LAMPORTS).unwrap();
        let account = self.create_token_account(&key.pubkey());
        if tokens > 0 {
            let ix = braid_program_token::instruction::mint_to(
                &self.mint,
                &account,
                &self.mint_authority.pubkey(),
                tokens,
            );
            send(&mut self.h, &self.payer, &[ix], &[&self.mint_authority]).expect("mint");
        }
        User {
            key,
            tokens: account,
        }
    }

    /// A user with an open position.
    pub fn underwriter(&mut self, tokens: u64) -> User {
        let user = self.user(tokens);
        self.send_as(
            &user.key,
            insurance::open_position(&self.keys.pool, &user.pubkey()),
        )
        .expect("open position");
        user
    }

    pub fn balance(&self, token_account: &Pubkey) -> u64 {
        TokenAccount::unpack(
            &self
                .h
                .get_account(token_account)
                .expect("token account")
                .data,
        )
        .unwrap()
        .amount
    }

    pub fn vault_balance(&self) -> u64 {
        self.balance(&self.keys.vault)
    }

    pub fn pool(&self) -> insurance::Pool {
        insurance::Pool::unpack(&self.h.get_account(&self.keys.pool).unwrap().data).unwrap()
    }

    pub fn position(&self, owner: &Pubkey) -> Position {
        let (address, _) = insurance::position_address(&self.keys.pool, owner);
        Position::unpack(&self.h.get_account(&address).unwrap().data).unwrap()
    }

    pub fn policy(&self, holder: &Pubkey, policy_id: u64) -> Policy {
        let (address, _) = insurance::policy_address(&self.keys.pool, holder, policy_id);
        Policy::unpack(&self.h.get_account(&address).unwrap().data).unwrap()
    }
}
