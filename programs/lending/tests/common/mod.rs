//! A harness with System, Token, Oracle and Lending, and a two-reserve market (USDC and SOL)
//! built the way a client would build it.

#![allow(dead_code)]
// `FailedTransaction` is the harness's own (large) error type.
#![allow(clippy::result_large_err)]

use borsh::BorshDeserialize;
use braid_program_lending::instruction::{self as lending, ReserveAccounts};
use braid_program_lending::state::{
    LENDING_MARKET_LEN, OBLIGATION_LEN, Obligation, RESERVE_LEN, Reserve, ReserveConfig,
};
use braid_program_lending::{LendingError, LendingProgram, market_authority};
use braid_program_system::instruction as system_instruction;
use braid_program_token::{self as token, ACCOUNT_LEN, MINT_LEN, TokenAccount, TokenProgram};
use braid_runtime::harness::{FailedTransaction, Harness, TransactionMeta};
use braid_runtime::keypair::Keypair;
use braid_runtime::{Instruction, InstructionError, Pubkey, Transaction, TransactionError};

/// Lamports every created account is funded with (no rent in Braid).
pub const ACCOUNT_LAMPORTS: u64 = 2_000_000;
pub const PAYER_LAMPORTS: u64 = 1_000_000_000_000;
pub const USDC_DECIMALS: u8 = 6;
pub const SOL_DECIMALS: u8 = 9;
/// Oracle prices carry six decimals.
pub const PRICE_EXPONENT: i32 = -6;
pub const USDC_PRICE: i64 = 1_000_000;
pub const SOL_PRICE: i64 = 100_000_000;
pub const MAX_ORACLE_AGE_SLOTS: u64 = 100;
/// The market owner's initial deposit in each reserve: 1000 USDC, 1 SOL.
pub const USDC_INITIAL: u64 = 1_000_000_000;
pub const SOL_INITIAL: u64 = 1_000_000_000;

pub const USDC_CONFIG: ReserveConfig = ReserveConfig {
    optimal_utilization_rate_percent: 80,
    loan_to_value_ratio_percent: 75,
    liquidation_bonus_percent: 5,
    liquidation_threshold_percent: 80,
    min_borrow_rate_percent: 0,
    optimal_borrow_rate_percent: 8,
    max_borrow_rate_percent: 100,
    max_oracle_age_slots: MAX_ORACLE_AGE_SLOTS,
};

pub const SOL_CONFIG: ReserveConfig = ReserveConfig {
    optimal_utilization_rate_percent: 80,
    loan_to_value_ratio_percent: 50,
    liquidation_bonus_percent: 10,
    liquidation_threshold_percent: 60,
    min_borrow_rate_percent: 0,
    optimal_borrow_rate_percent: 8,
    max_borrow_rate_percent: 100,
    max_oracle_age_slots: MAX_ORACLE_AGE_SLOTS,
};

pub fn custom(index: u8, error: LendingError) -> TransactionError {
    TransactionError::InstructionError(index, InstructionError::Custom(error as u32))
}

pub struct Env {
    pub h: Harness,
    pub payer: Keypair,
}

impl Env {
    pub fn new() -> Self {
        let mut h = Harness::new();
        h.add_program(braid_program_system::SystemProgram)
            .add_program(TokenProgram)
            .add_program(braid_program_oracle::OracleProgram)
            .add_program(LendingProgram);
        let payer = Keypair::new();
        h.airdrop(&payer.pubkey(), PAYER_LAMPORTS).unwrap();
        Self { h, payer }
    }

    /// Sends over a fresh blockhash, so identical instructions are never a replay.
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

    pub fn ok(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TransactionMeta {
        match self.send(instructions, signers) {
            Ok(meta) => meta,
            Err(failed) => panic!(
                "transaction failed: {:?}\nlogs: {:#?}",
                failed.err, failed.meta.logs
            ),
        }
    }

    /// Sends, expects failure, and checks that only the fee was charged.
    pub fn err(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TransactionError {
        let before: Vec<_> = self
            .h
            .accounts()
            .iter()
            .map(|(k, a)| (*k, a.clone()))
            .collect();
        let failed = self
            .send(instructions, signers)
            .expect_err("transaction should fail");
        let payer = self.payer.pubkey();
        let after: Vec<_> = self
            .h
            .accounts()
            .iter()
            .map(|(k, a)| {
                let mut a = a.clone();
                if *k == payer {
                    a.lamports += failed.meta.fee;
                }
                (*k, a)
            })
            .collect();
        assert_eq!(
            before, after,
            "a failed transaction changes nothing but the fee"
        );
        failed.err
    }

    /// A new keypair account of `len` zeroed bytes owned by `owner`.
    pub fn create_owned(&mut self, owner: &Pubkey, len: usize) -> Pubkey {
        let account = Keypair::new();
        let ix = system_instruction::create_account(
            &self.payer.pubkey(),
            &account.pubkey(),
            ACCOUNT_LAMPORTS,
            len as u64,
            owner,
        );
        self.ok(&[ix], &[&account]);
        account.pubkey()
    }

    pub fn create_mint(&mut self, authority: &Pubkey, decimals: u8) -> Pubkey {
        let mint = self.create_owned(&token::ID, MINT_LEN);
        self.ok(
            &[token::instruction::initialize_mint2(
                &mint, authority, None, decimals,
            )],
            &[],
        );
        mint
    }

    pub fn create_token_account(&mut self, mint: &Pubkey, owner: &Pubkey) -> Pubkey {
        let account = self.create_owned(&token::ID, ACCOUNT_LEN);
        self.ok(
            &[token::instruction::initialize_account3(
                &account, mint, owner,
            )],
            &[],
        );
        account
    }

    /// Mints test tokens (the payer is every test mint's authority).
    pub fn mint_to(&mut self, mint: &Pubkey, destination: &Pubkey, amount: u64) {
        let ix = token::instruction::mint_to(mint, destination, &self.payer.pubkey(), amount);
        self.ok(&[ix], &[]);
    }

    pub fn funded_account(&mut self, mint: &Pubkey, owner: &Pubkey, amount: u64) -> Pubkey {
        let account = self.create_token_account(mint, owner);
        if amount > 0 {
            self.mint_to(mint, &account, amount);
        }
        account
    }

    pub fn balance(&self, account: &Pubkey) -> u64 {
        TokenAccount::unpack(&self.h.get_account(account).unwrap().data)
            .unwrap()
            .amount
    }

    pub fn supply(&self, mint: &Pubkey) -> u64 {
        token::Mint::unpack(&self.h.get_account(mint).unwrap().data)
            .unwrap()
            .supply
    }

    pub fn create_feed(&mut self, price: i64) -> Pubkey {
        let feed = self.create_owned(&braid_program_oracle::ID, braid_program_oracle::FEED_BYTES);
        let payer = self.payer.pubkey();
        self.ok(
            &[
                braid_program_oracle::initialize_feed(&feed, &payer, PRICE_EXPONENT),
                braid_program_oracle::set_price(&feed, &payer, price, 0),
            ],
            &[],
        );
        feed
    }

    pub fn set_price(&mut self, feed: &Pubkey, price: i64) {
        let ix = braid_program_oracle::set_price(feed, &self.payer.pubkey(), price, 0);
        self.ok(&[ix], &[]);
    }

    pub fn reserve(&self, key: &Pubkey) -> Reserve {
        Reserve::deserialize(&mut self.h.get_account(key).unwrap().data.as_slice()).unwrap()
    }

    pub fn obligation(&self, key: &Pubkey) -> Obligation {
        Obligation::deserialize(&mut self.h.get_account(key).unwrap().data.as_slice()).unwrap()
    }

    pub fn create_market(&mut self) -> Pubkey {
        let market = self.create_owned(&braid_program_lending::ID, LENDING_MARKET_LEN);
        let ix = lending::init_lending_market(
            &market,
            &self.payer.pubkey(),
            *b"USD\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        );
        self.ok(&[ix], &[]);
        market
    }

    /// Creates the accounts of a reserve (vault, collateral mint and supply owned by the
    /// market authority, the reserve account) without initializing the reserve.
    pub fn reserve_accounts(
        &mut self,
        market: &Pubkey,
        mint: &Pubkey,
        decimals: u8,
        oracle: &Pubkey,
    ) -> ReserveAccounts {
        let authority = market_authority(market).0;
        let liquidity_supply = self.create_token_account(mint, &authority);
        let collateral_mint = self.create_mint(&authority, decimals);
        let collateral_supply = self.create_token_account(&collateral_mint, &authority);
        let reserve = self.create_owned(&braid_program_lending::ID, RESERVE_LEN);
        ReserveAccounts {
            reserve,
            lending_market: *market,
            liquidity_mint: *mint,
            liquidity_supply,
            collateral_mint,
            collateral_supply,
            oracle: *oracle,
        }
    }

    /// The market owner's (payer's) `InitReserve` with a funded source and an empty
    /// collateral destination.
    pub fn init_reserve_ix(
        &mut self,
        accounts: &ReserveAccounts,
        amount: u64,
        config: ReserveConfig,
    ) -> Instruction {
        let payer = self.payer.pubkey();
        let source = self.funded_account(&accounts.liquidity_mint, &payer, amount);
        let destination = self.create_token_account(&accounts.collateral_mint, &payer);
        lending::init_reserve(
            accounts,
            &payer,
            &source,
            &destination,
            &payer,
            amount,
            config,
        )
    }

    pub fn create_obligation(&mut self, market: &Pubkey, owner: &Keypair) -> Pubkey {
        let obligation = self.create_owned(&braid_program_lending::ID, OBLIGATION_LEN);
        self.ok(
            &[lending::init_obligation(
                &obligation,
                market,
                &owner.pubkey(),
            )],
            &[owner],
        );
        obligation
    }

    /// `RefreshObligation` listing the obligation's reserves as it stands.
    pub fn refresh_obligation_ix(&self, obligation: &Pubkey) -> Instruction {
        let state = self.obligation(obligation);
        let reserves: Vec<Pubkey> = state
            .deposits
            .iter()
            .map(|d| d.deposit_reserve)
            .chain(state.borrows.iter().map(|b| b.borrow_reserve))
            .collect();
        lending::refresh_obligation(obligation, &reserves)
    }
}

/// A user with token accounts for both liquidity mints and both collateral mints.
pub struct User {
    pub key: Keypair,
    pub usdc: Pubkey,
    pub sol: Pubkey,
    pub cusdc: Pubkey,
    pub csol: Pubkey,
}

/// A market with a USDC and a SOL reserve, each seeded by the owner.
pub struct Fixture {
    pub env: Env,
    pub market: Pubkey,
    pub usdc_mint: Pubkey,
    pub sol_mint: Pubkey,
    pub usdc_feed: Pubkey,
    pub sol_feed: Pubkey,
    pub usdc: ReserveAccounts,
    pub sol: ReserveAccounts,
}

impl Fixture {
    pub fn new() -> Self {
        let mut env = Env::new();
        let payer = env.payer.pubkey();
        let usdc_mint = env.create_mint(&payer, USDC_DECIMALS);
        let sol_mint = env.create_mint(&payer, SOL_DECIMALS);
        let usdc_feed = env.create_feed(USDC_PRICE);
        let sol_feed = env.create_feed(SOL_PRICE);
        let market = env.create_market();
        let usdc = env.reserve_accounts(&market, &usdc_mint, USDC_DECIMALS, &usdc_feed);
        let ix = env.init_reserve_ix(&usdc, USDC_INITIAL, USDC_CONFIG);
        env.ok(&[ix], &[]);
        let sol = env.reserve_accounts(&market, &sol_mint, SOL_DECIMALS, &sol_feed);
        let ix = env.init_reserve_ix(&sol, SOL_INITIAL, SOL_CONFIG);
        env.ok(&[ix], &[]);
        Self {
            env,
            market,
            usdc_mint,
            sol_mint,
            usdc_feed,
            sol_feed,
            usdc,
            sol,
        }
    }

    pub fn user(&mut self, usdc: u64, sol: u64) -> User {
        let key = Keypair::new();
        let owner = key.pubkey();
        let (usdc_mint, sol_mint) = (self.usdc_mint, self.sol_mint);
        let (cusdc_mint, csol_mint) = (self.usdc.collateral_mint, self.sol.collateral_mint);
        User {
            usdc: self.env.funded_account(&usdc_mint, &owner, usdc),
            sol: self.env.funded_account(&sol_mint, &owner, sol),
            cusdc: self.env.create_token_account(&cusdc_mint, &owner),
            csol: self.env.create_token_account(&csol_mint, &owner),
            key,
        }
    }

    pub fn refresh_reserves(&self) -> Vec<Instruction> {
        vec![
            lending::refresh_reserve(&self.usdc.reserve, &self.usdc_feed),
            lending::refresh_reserve(&self.sol.reserve, &self.sol_feed),
        ]
    }

    /// Refreshes both reserves and the obligation, then runs `instruction`.
    pub fn fresh(&self, obligation: &Pubkey, instruction: Instruction) -> Vec<Instruction> {
        let mut ixs = self.refresh_reserves();
        ixs.push(self.env.refresh_obligation_ix(obligation));
        ixs.push(instruction);
        ixs
    }

    /// Deposits `sol` SOL for cSOL, opens an obligation, and puts all the cSOL in it.
    pub fn collateralized_borrower(&mut self, sol: u64) -> (User, Pubkey) {
        let user = self.user(0, sol);
        let mut ixs = self.refresh_reserves();
        ixs.push(lending::deposit_reserve_liquidity(
            &self.sol,
            &user.sol,
            &user.csol,
            &user.key.pubkey(),
            sol,
        ));
        self.env.ok(&ixs, &[&user.key]);
        let obligation = self.env.create_obligation(&self.market, &user.key);
        let collateral = self.env.balance(&user.csol);
        let mut ixs = self.refresh_reserves();
        ixs.push(lending::deposit_obligation_collateral(
            &self.sol,
            &obligation,
            &user.csol,
            &user.key.pubkey(),
            &user.key.pubkey(),
            collateral,
        ));
        self.env.ok(&ixs, &[&user.key]);
        (user, obligation)
    }

    /// A lender deposits `usdc` USDC.
    pub fn lender(&mut self, usdc: u64) -> User {
        let user = self.user(usdc, 0);
        let mut ixs = self.refresh_reserves();
        ixs.push(lending::deposit_reserve_liquidity(
            &self.usdc,
            &user.usdc,
            &user.cusdc,
            &user.key.pubkey(),
            usdc,
        ));
        self.env.ok(&ixs, &[&user.key]);
        user
    }
}
