//! A harness with the System and Token programs, a funded payer, and helpers to create mints
//! and token accounts the way a client would (System `CreateAccount` + token initialize).

#![allow(dead_code)]
// `FailedTransaction` is the harness's own (large) error type.
#![allow(clippy::result_large_err)]

use braid_program_system::instruction as system_instruction;
use braid_program_token::{
    self as token, ACCOUNT_LEN, MINT_LEN, Mint, TokenAccount, TokenProgram, instruction,
};
use braid_runtime::harness::{FailedTransaction, Harness, TransactionMeta};
use braid_runtime::keypair::Keypair;
use braid_runtime::{Account, Instruction, Pubkey, Transaction, TransactionError};

/// Lamports a new token account or mint is funded with (no rent in Braid; any amount works).
pub const ACCOUNT_LAMPORTS: u64 = 2_039_280;
/// Lamports the payer starts with.
pub const PAYER_LAMPORTS: u64 = 1_000_000_000_000;

pub struct Env {
    pub h: Harness,
    pub payer: Keypair,
}

impl Env {
    pub fn new() -> Self {
        let mut h = Harness::new();
        h.add_program(TokenProgram);
        h.add_program(braid_program_system::SystemProgram);
        let payer = Keypair::new();
        h.airdrop(&payer.pubkey(), PAYER_LAMPORTS).unwrap();
        Self { h, payer }
    }

    /// Signs `instructions` with the payer and `signers` over a fresh blockhash (so sending
    /// the same instructions twice is not a replay) and sends them.
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

    /// Sends, expects exactly `expected`, and checks that nothing changed but the payer's
    /// balance, by exactly the fee charged.
    pub fn expect_failure(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        expected: TransactionError,
    ) {
        let before = self.snapshot();
        let failed = self
            .send(instructions, signers)
            .expect_err("transaction should fail");
        assert_eq!(failed.err, expected, "logs: {:#?}", failed.meta.logs);
        let payer = self.payer.pubkey();
        let mut after = self.snapshot();
        for (key, account) in &mut after {
            if *key == payer {
                account.lamports = account.lamports.checked_add(failed.meta.fee).unwrap();
            }
        }
        assert!(failed.meta.fee > 0, "an executed transaction pays a fee");
        assert_eq!(
            before, after,
            "a failed transaction changes nothing but the fee"
        );
    }

    /// Sends, expects `InstructionError(index, error)`.
    pub fn expect_instruction_error(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        index: u8,
        error: impl Into<braid_runtime::InstructionError>,
    ) {
        self.expect_failure(
            instructions,
            signers,
            TransactionError::InstructionError(index, error.into()),
        );
    }

    /// Creates and initializes a mint (System `CreateAccount` + `InitializeMint`).
    pub fn create_mint(
        &mut self,
        authority: &Pubkey,
        freeze_authority: Option<&Pubkey>,
        decimals: u8,
    ) -> Pubkey {
        let mint = Keypair::new();
        let payer = self.payer.pubkey();
        let instructions = [
            system_instruction::create_account(
                &payer,
                &mint.pubkey(),
                ACCOUNT_LAMPORTS,
                MINT_LEN as u64,
                &token::ID,
            ),
            instruction::initialize_mint(&mint.pubkey(), authority, freeze_authority, decimals),
        ];
        self.send(&instructions, &[&mint]).expect("create mint");
        mint.pubkey()
    }

    /// Creates and initializes a token account (System `CreateAccount` + `InitializeAccount3`).
    pub fn create_account(&mut self, mint: &Pubkey, owner: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let payer = self.payer.pubkey();
        let instructions = [
            system_instruction::create_account(
                &payer,
                &account.pubkey(),
                ACCOUNT_LAMPORTS,
                ACCOUNT_LEN as u64,
                &token::ID,
            ),
            instruction::initialize_account3(&account.pubkey(), mint, owner),
        ];
        self.send(&instructions, &[&account])
            .expect("create token account");
        account.pubkey()
    }

    /// Creates an uninitialized, token-owned account of `len` bytes.
    pub fn create_raw(&mut self, len: usize) -> Pubkey {
        let key = Keypair::new().pubkey();
        self.h
            .set_account(key, Account::new(ACCOUNT_LAMPORTS, len, &token::ID));
        key
    }

    /// Writes `state` into a new token-owned account directly (for states no instruction
    /// makes, such as native accounts).
    pub fn set_token_account(&mut self, state: &TokenAccount) -> Pubkey {
        let key = Keypair::new().pubkey();
        self.h.set_account(
            key,
            Account::with_data(ACCOUNT_LAMPORTS, state.pack().to_vec(), &token::ID),
        );
        key
    }

    pub fn mint(&self, key: &Pubkey) -> Mint {
        Mint::unpack(&self.h.get_account(key).expect("mint exists").data).expect("valid mint")
    }

    pub fn account(&self, key: &Pubkey) -> TokenAccount {
        TokenAccount::unpack(&self.h.get_account(key).expect("account exists").data)
            .expect("valid token account")
    }

    pub fn balance(&self, key: &Pubkey) -> u64 {
        self.account(key).amount
    }

    pub fn lamports(&self, key: &Pubkey) -> u64 {
        self.h.get_balance(key)
    }
}
