//! The Associated Token Account program in the harness: the address derivation, Create,
//! CreateIdempotent and RecoverNested, with the exact errors.

use braid_program_associated_token::{
    self as ata, AssociatedTokenError, AssociatedTokenProgram, TOKEN_ACCOUNT_RENT_EXEMPT_LAMPORTS,
    associated_token_address,
};
use braid_program_system::instruction as system;
use braid_program_token::{self as token, ACCOUNT_LEN, MINT_LEN, TokenAccount};
use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::{Instruction, InstructionError, Pubkey, Transaction, TransactionError};

struct Env {
    harness: Harness,
    payer: Keypair,
}

impl Env {
    fn new() -> Self {
        let mut harness = Harness::new();
        harness
            .add_program(braid_program_system::SystemProgram)
            .add_program(token::TokenProgram)
            .add_program(AssociatedTokenProgram);
        let payer = Keypair::from_seed(&[1; 32]);
        harness.airdrop(&payer.pubkey(), 100_000_000_000).unwrap();
        Self { harness, payer }
    }

    fn send(
        &mut self,
        instructions: &[Instruction],
        extra: &[&Keypair],
    ) -> Result<(), TransactionError> {
        let mut signers = vec![&self.payer];
        signers.extend_from_slice(extra);
        let tx = Transaction::new_signed_with_payer(
            instructions,
            Some(&self.payer.pubkey()),
            &signers,
            self.harness.latest_blockhash(),
        );
        self.harness
            .send_transaction(tx)
            .map(|_| ())
            .map_err(|failed| failed.err)
    }

    fn mint(&mut self, seed: u8) -> Pubkey {
        let mint = Keypair::from_seed(&[seed; 32]);
        let payer = self.payer.pubkey();
        self.send(
            &[
                system::create_account(
                    &payer,
                    &mint.pubkey(),
                    1_461_600,
                    MINT_LEN as u64,
                    &token::ID,
                ),
                token::instruction::initialize_mint2(&mint.pubkey(), &payer, None, 6),
            ],
            &[&mint],
        )
        .unwrap();
        mint.pubkey()
    }

    fn token_account(&self, key: &Pubkey) -> TokenAccount {
        let account = self.harness.get_account(key).expect("the account exists");
        assert_eq!(account.owner, token::ID);
        TokenAccount::unpack(&account.data).unwrap()
    }
}

#[test]
fn the_address_is_solanas_derivation() {
    // The same derivation computed by @solana/web3.js 1.98.4 (`findProgramAddressSync` over
    // [wallet, Token program, mint] with the Associated Token program's id): bump 253.
    let wallet: Pubkey = "7EYnhQoR9YM3N7UoaKRoA44Uy8JeaZV3qyouov87awMs"
        .parse()
        .unwrap();
    let usdc: Pubkey = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
        .parse()
        .unwrap();
    let (address, bump) = associated_token_address(&wallet, &usdc);
    assert_eq!(
        address.to_string(),
        "3Qwh5zGrULhmJL2FeKV1J3QYWQ8WX3NXJ5pCuZAoh2J4"
    );
    assert_eq!(bump, 253);
}

#[test]
fn create_makes_a_rent_exempt_account_for_the_wallet_and_create_idempotent_keeps_it() {
    let mut env = Env::new();
    let mint = env.mint(9);
    let wallet = Pubkey::new_from_array([5; 32]);
    let payer = env.payer.pubkey();
    env.send(&[ata::create(&payer, &wallet, &mint)], &[])
        .unwrap();
    let (address, _) = associated_token_address(&wallet, &mint);
    let account = env.harness.get_account(&address).unwrap();
    assert_eq!(account.lamports, TOKEN_ACCOUNT_RENT_EXEMPT_LAMPORTS);
    assert_eq!(account.data.len(), ACCOUNT_LEN);
    let state = env.token_account(&address);
    assert_eq!((state.mint, state.owner, state.amount), (mint, wallet, 0));

    // Idempotent: succeeds and changes nothing.
    env.send(&[ata::create_idempotent(&payer, &wallet, &mint)], &[])
        .unwrap();
    assert_eq!(env.harness.get_account(&address).unwrap(), account);
    // Create again (a new blockhash, so not a replay): the account exists.
    env.harness.expire_blockhash();
    let error = env
        .send(&[ata::create(&payer, &wallet, &mint)], &[])
        .unwrap_err();
    // Refused before any call, as SPL does.
    assert_eq!(
        error,
        TransactionError::InstructionError(0, InstructionError::IllegalOwner)
    );
    assert_eq!(env.harness.get_account(&address).unwrap(), account);
}

#[test]
fn a_wrong_address_or_program_is_refused() {
    let mut env = Env::new();
    let mint = env.mint(9);
    let wallet = Pubkey::new_from_array([5; 32]);
    let payer = env.payer.pubkey();
    let mut wrong = ata::create(&payer, &wallet, &mint);
    wrong.accounts[1].pubkey = Pubkey::new_from_array([6; 32]);
    assert_eq!(
        env.send(&[wrong], &[]),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::InvalidSeeds
        ))
    );
    let mut not_token = ata::create(&payer, &wallet, &mint);
    not_token.accounts[5].pubkey = braid_runtime::SYSTEM_PROGRAM_ID;
    assert_eq!(
        env.send(&[not_token], &[]),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::IncorrectProgramId
        ))
    );
    // A mint the Token program does not own.
    let fake_mint = Pubkey::new_from_array([7; 32]);
    assert_eq!(
        env.send(&[ata::create(&payer, &wallet, &fake_mint)], &[]),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::IllegalOwner
        ))
    );
    assert_eq!(
        env.send(
            &[Instruction {
                data: vec![3],
                ..ata::create(&payer, &wallet, &mint)
            }],
            &[]
        ),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::InvalidInstructionData
        ))
    );
}

#[test]
fn recover_nested_moves_the_tokens_home_and_closes_the_nested_account() {
    let mut env = Env::new();
    let (owner_mint, nested_mint) = (env.mint(9), env.mint(10));
    let wallet = Keypair::from_seed(&[5; 32]);
    env.harness
        .airdrop(&wallet.pubkey(), 1_000_000_000)
        .unwrap();
    let payer = env.payer.pubkey();
    let (owner_account, _) = associated_token_address(&wallet.pubkey(), &owner_mint);
    let (nested, _) = associated_token_address(&owner_account, &nested_mint);
    let (destination, _) = associated_token_address(&wallet.pubkey(), &nested_mint);
    env.send(
        &[
            ata::create(&payer, &wallet.pubkey(), &owner_mint),
            ata::create(&payer, &owner_account, &nested_mint),
            ata::create(&payer, &wallet.pubkey(), &nested_mint),
            token::instruction::mint_to(&nested_mint, &nested, &payer, 4_000),
        ],
        &[],
    )
    .unwrap();
    let before = env.harness.get_balance(&wallet.pubkey());
    env.send(
        &[ata::recover_nested(
            &wallet.pubkey(),
            &owner_mint,
            &nested_mint,
        )],
        &[&wallet],
    )
    .unwrap();
    assert_eq!(env.token_account(&destination).amount, 4_000);
    assert_eq!(env.harness.get_account(&nested), None, "closed");
    assert_eq!(
        env.harness.get_balance(&wallet.pubkey()),
        before + TOKEN_ACCOUNT_RENT_EXEMPT_LAMPORTS
    );
    // Someone else's wallet cannot recover it.
    let stranger = Keypair::from_seed(&[8; 32]);
    let mut stolen = ata::recover_nested(&wallet.pubkey(), &owner_mint, &nested_mint);
    stolen.accounts[5].pubkey = stranger.pubkey();
    assert_eq!(
        env.send(&[stolen], &[&stranger]),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::InvalidSeeds
        ))
    );
    let _ = AssociatedTokenError::InvalidOwner;
}
