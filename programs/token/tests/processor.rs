//! The token program through the in-process harness: every instruction's happy path, and
//! each error with the exact code, checking that a failure changes nothing but the fee.

mod common;

use braid_program_system::instruction as system_instruction;
use braid_program_token::instruction::{self, AuthorityType};
use braid_program_token::{
    self as token, ACCOUNT_LEN, AccountState, MINT_LEN, Mint, NATIVE_MINT_ID,
    TOKEN_INSTRUCTION_UNITS, TokenAccount, TokenError,
};
use braid_runtime::keypair::Keypair;
use braid_runtime::{
    Account, AccountMeta, Instruction, InstructionError, Pubkey, SYSTEM_PROGRAM_ID,
    TransactionError,
};
use common::{ACCOUNT_LAMPORTS, Env};

/// A mint with a mint and a freeze authority (6 decimals), and two accounts, Alice's holding
/// 1,000 tokens and Bob's empty.
struct Fixture {
    env: Env,
    mint_authority: Keypair,
    freeze_authority: Keypair,
    mint: Pubkey,
    alice: Keypair,
    alice_account: Pubkey,
    bob: Keypair,
    bob_account: Pubkey,
}

const DECIMALS: u8 = 6;

fn fixture() -> Fixture {
    let mut env = Env::new();
    let mint_authority = Keypair::new();
    let freeze_authority = Keypair::new();
    let mint = env.create_mint(
        &mint_authority.pubkey(),
        Some(&freeze_authority.pubkey()),
        DECIMALS,
    );
    let alice = Keypair::new();
    let bob = Keypair::new();
    let alice_account = env.create_account(&mint, &alice.pubkey());
    let bob_account = env.create_account(&mint, &bob.pubkey());
    env.send(
        &[instruction::mint_to(
            &mint,
            &alice_account,
            &mint_authority.pubkey(),
            1_000,
        )],
        &[&mint_authority],
    )
    .unwrap();
    Fixture {
        env,
        mint_authority,
        freeze_authority,
        mint,
        alice,
        alice_account,
        bob,
        bob_account,
    }
}

// ---------------------------------------------------------------- initialize

#[test]
fn initialize_mint_writes_spls_layout() {
    let mut env = Env::new();
    let authority = Pubkey::new_from_array([7; 32]);
    let freeze = Pubkey::new_from_array([8; 32]);
    let mint = env.create_mint(&authority, Some(&freeze), 9);
    let account = env.h.get_account(&mint).unwrap();
    assert_eq!(account.owner, token::ID);
    assert_eq!(account.lamports, ACCOUNT_LAMPORTS);
    // 4-byte tag 1 + authority, supply 0, decimals 9, initialized, 4-byte tag 1 + freeze.
    let expected = [
        &[1u8, 0, 0, 0][..],
        &[7; 32],
        &[0; 8],
        &[9, 1],
        &[1, 0, 0, 0],
        &[8; 32],
    ]
    .concat();
    assert_eq!(account.data, expected);
    assert_eq!(
        env.mint(&mint),
        Mint {
            mint_authority: Some(authority),
            supply: 0,
            decimals: 9,
            is_initialized: true,
            freeze_authority: Some(freeze)
        }
    );
}

#[test]
fn initialize_mint2_needs_no_rent_sysvar() {
    let mut env = Env::new();
    let mint = env.create_raw(MINT_LEN);
    let authority = Pubkey::new_from_array([7; 32]);
    let meta = env
        .send(
            &[instruction::initialize_mint2(&mint, &authority, None, 0)],
            &[],
        )
        .unwrap();
    assert_eq!(env.mint(&mint).mint_authority, Some(authority));
    assert_eq!(env.mint(&mint).freeze_authority, None);
    assert!(
        meta.logs
            .iter()
            .any(|line| line == "Program log: Instruction: InitializeMint2"),
        "{:#?}",
        meta.logs
    );
}

#[test]
fn initialize_mint_errors() {
    let mut env = Env::new();
    let authority = Pubkey::new_from_array([7; 32]);
    let mint = env.create_mint(&authority, None, 2);
    // Twice.
    env.expect_instruction_error(
        &[instruction::initialize_mint2(&mint, &authority, None, 2)],
        &[],
        0,
        TokenError::AlreadyInUse,
    );
    // Wrong size.
    let small = env.create_raw(MINT_LEN - 1);
    env.expect_instruction_error(
        &[instruction::initialize_mint2(&small, &authority, None, 2)],
        &[],
        0,
        InstructionError::InvalidAccountData,
    );
    // Something else where the rent sysvar belongs.
    let fresh = env.create_raw(MINT_LEN);
    let mut ix = instruction::initialize_mint(&fresh, &authority, None, 2);
    ix.accounts[1] = AccountMeta::new_readonly(Pubkey::new_from_array([9; 32]), false);
    env.expect_instruction_error(&[ix], &[], 0, InstructionError::InvalidArgument);
    // No rent sysvar at all.
    let mut ix = instruction::initialize_mint(&fresh, &authority, None, 2);
    ix.accounts.truncate(1);
    env.expect_instruction_error(&[ix], &[], 0, InstructionError::NotEnoughAccountKeys);
    // Not owned by the token program: the runtime refuses the write.
    let foreign = Keypair::new().pubkey();
    env.h.set_account(
        foreign,
        Account::new(ACCOUNT_LAMPORTS, MINT_LEN, &SYSTEM_PROGRAM_ID),
    );
    env.expect_instruction_error(
        &[instruction::initialize_mint2(&foreign, &authority, None, 2)],
        &[],
        0,
        InstructionError::ExternalAccountDataModified,
    );
}

#[test]
fn initialize_account_variants() {
    let mut env = Env::new();
    let mint = env.create_mint(&Pubkey::new_from_array([7; 32]), None, 2);
    let owner = Pubkey::new_from_array([3; 32]);
    let builders: [fn(&Pubkey, &Pubkey, &Pubkey) -> Instruction; 3] = [
        instruction::initialize_account,
        instruction::initialize_account2,
        instruction::initialize_account3,
    ];
    for build in builders {
        let account = env.create_raw(ACCOUNT_LEN);
        env.send(&[build(&account, &mint, &owner)], &[]).unwrap();
        assert_eq!(
            env.account(&account),
            TokenAccount {
                mint,
                owner,
                state: AccountState::Initialized,
                ..TokenAccount::default()
            }
        );
        // Mint 32, owner 32, then zeros but the state byte.
        let data = env.h.get_account(&account).unwrap().data;
        let mut expected = [&mint.to_bytes()[..], &owner.to_bytes()].concat();
        expected.resize(ACCOUNT_LEN, 0);
        expected[108] = 1;
        assert_eq!(data, expected);
        env.expect_instruction_error(
            &[build(&account, &mint, &owner)],
            &[],
            0,
            TokenError::AlreadyInUse,
        );
    }
}

#[test]
fn initialize_account_errors() {
    let mut env = Env::new();
    let owner = Pubkey::new_from_array([3; 32]);
    let account = env.create_raw(ACCOUNT_LEN);
    // An uninitialized mint.
    let raw_mint = env.create_raw(MINT_LEN);
    env.expect_instruction_error(
        &[instruction::initialize_account3(
            &account, &raw_mint, &owner,
        )],
        &[],
        0,
        TokenError::InvalidMint,
    );
    // Not a mint at all (a token account).
    let mint = env.create_mint(&Pubkey::new_from_array([7; 32]), None, 2);
    let other = env.create_account(&mint, &owner);
    env.expect_instruction_error(
        &[instruction::initialize_account3(&account, &other, &owner)],
        &[],
        0,
        TokenError::InvalidMint,
    );
    // A mint-shaped account the token program does not own.
    let fake_mint = Keypair::new().pubkey();
    let fake = Mint {
        mint_authority: Some(owner),
        is_initialized: true,
        ..Mint::default()
    };
    env.h.set_account(
        fake_mint,
        Account::with_data(ACCOUNT_LAMPORTS, fake.pack().to_vec(), &SYSTEM_PROGRAM_ID),
    );
    env.expect_instruction_error(
        &[instruction::initialize_account3(
            &account, &fake_mint, &owner,
        )],
        &[],
        0,
        InstructionError::IncorrectProgramId,
    );
    // Wrapped SOL.
    env.expect_instruction_error(
        &[instruction::initialize_account3(
            &account,
            &NATIVE_MINT_ID,
            &owner,
        )],
        &[],
        0,
        TokenError::NativeNotSupported,
    );
    // Wrong size.
    let small = env.create_raw(ACCOUNT_LEN + 1);
    env.expect_instruction_error(
        &[instruction::initialize_account3(&small, &mint, &owner)],
        &[],
        0,
        InstructionError::InvalidAccountData,
    );
    // Missing owner / rent sysvar.
    let mut ix = instruction::initialize_account(&account, &mint, &owner);
    ix.accounts.truncate(3);
    env.expect_instruction_error(&[ix], &[], 0, InstructionError::NotEnoughAccountKeys);
}

// ---------------------------------------------------------------- mint_to

#[test]
fn mint_to_adds_to_balance_and_supply() {
    let mut f = fixture();
    let authority = f.mint_authority.pubkey();
    f.env
        .send(
            &[instruction::mint_to(
                &f.mint,
                &f.bob_account,
                &authority,
                250,
            )],
            &[&f.mint_authority],
        )
        .unwrap();
    f.env
        .send(
            &[instruction::mint_to_checked(
                &f.mint,
                &f.bob_account,
                &authority,
                5,
                DECIMALS,
            )],
            &[&f.mint_authority],
        )
        .unwrap();
    assert_eq!(f.env.balance(&f.bob_account), 255);
    assert_eq!(f.env.mint(&f.mint).supply, 1_255);
}

#[test]
fn mint_to_errors() {
    let mut f = fixture();
    let authority = f.mint_authority.pubkey();
    // Wrong authority.
    let impostor = Keypair::new();
    f.env.expect_instruction_error(
        &[instruction::mint_to(
            &f.mint,
            &f.bob_account,
            &impostor.pubkey(),
            1,
        )],
        &[&impostor],
        0,
        TokenError::OwnerMismatch,
    );
    // Right authority, not signing.
    let mut ix = instruction::mint_to(&f.mint, &f.bob_account, &authority, 1);
    ix.accounts[2].is_signer = false;
    f.env
        .expect_instruction_error(&[ix], &[], 0, InstructionError::MissingRequiredSignature);
    // Destination of another mint.
    let other_mint = f.env.create_mint(&authority, None, DECIMALS);
    f.env.expect_instruction_error(
        &[instruction::mint_to(
            &other_mint,
            &f.bob_account,
            &authority,
            1,
        )],
        &[&f.mint_authority],
        0,
        TokenError::MintMismatch,
    );
    // Decimals.
    f.env.expect_instruction_error(
        &[instruction::mint_to_checked(
            &f.mint,
            &f.bob_account,
            &authority,
            1,
            DECIMALS + 1,
        )],
        &[&f.mint_authority],
        0,
        TokenError::MintDecimalsMismatch,
    );
    // Overflow of the supply.
    f.env.expect_instruction_error(
        &[instruction::mint_to(
            &f.mint,
            &f.bob_account,
            &authority,
            u64::MAX - 999,
        )],
        &[&f.mint_authority],
        0,
        TokenError::Overflow,
    );
    // Frozen destination.
    f.env
        .send(
            &[instruction::freeze_account(
                &f.bob_account,
                &f.mint,
                &f.freeze_authority.pubkey(),
            )],
            &[&f.freeze_authority],
        )
        .unwrap();
    f.env.expect_instruction_error(
        &[instruction::mint_to(&f.mint, &f.bob_account, &authority, 1)],
        &[&f.mint_authority],
        0,
        TokenError::AccountFrozen,
    );
    // Fixed supply.
    f.env
        .send(
            &[instruction::set_authority(
                &f.mint,
                None,
                AuthorityType::MintTokens,
                &authority,
            )],
            &[&f.mint_authority],
        )
        .unwrap();
    assert_eq!(f.env.mint(&f.mint).mint_authority, None);
    f.env.expect_instruction_error(
        &[instruction::mint_to(
            &f.mint,
            &f.alice_account,
            &authority,
            1,
        )],
        &[&f.mint_authority],
        0,
        TokenError::FixedSupply,
    );
    // An uninitialized destination.
    let raw = f.env.create_raw(ACCOUNT_LEN);
    f.env.expect_instruction_error(
        &[instruction::mint_to(&f.mint, &raw, &authority, 1)],
        &[&f.mint_authority],
        0,
        InstructionError::UninitializedAccount,
    );
}

// ---------------------------------------------------------------- transfer

#[test]
fn transfer_moves_tokens() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    let meta = f
        .env
        .send(
            &[instruction::transfer(
                &f.alice_account,
                &f.bob_account,
                &alice,
                300,
            )],
            &[&f.alice],
        )
        .unwrap();
    assert_eq!(meta.compute_units_consumed, TOKEN_INSTRUCTION_UNITS);
    assert!(
        meta.logs
            .iter()
            .any(|line| line == "Program log: Instruction: Transfer"),
        "{:#?}",
        meta.logs
    );
    f.env
        .send(
            &[instruction::transfer_checked(
                &f.alice_account,
                &f.mint,
                &f.bob_account,
                &alice,
                200,
                DECIMALS,
            )],
            &[&f.alice],
        )
        .unwrap();
    assert_eq!(f.env.balance(&f.alice_account), 500);
    assert_eq!(f.env.balance(&f.bob_account), 500);
    assert_eq!(f.env.mint(&f.mint).supply, 1_000);
    // Everything: a zero transfer succeeds and changes nothing.
    f.env
        .send(
            &[instruction::transfer(
                &f.alice_account,
                &f.bob_account,
                &alice,
                0,
            )],
            &[&f.alice],
        )
        .unwrap();
    assert_eq!(f.env.balance(&f.alice_account), 500);
}

#[test]
fn self_transfer_checks_but_changes_nothing() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    let before = f.env.h.get_account(&f.alice_account).unwrap();
    f.env
        .send(
            &[instruction::transfer(
                &f.alice_account,
                &f.alice_account,
                &alice,
                1_000,
            )],
            &[&f.alice],
        )
        .unwrap();
    assert_eq!(f.env.h.get_account(&f.alice_account).unwrap(), before);
    // The checks still run.
    f.env.expect_instruction_error(
        &[instruction::transfer(
            &f.alice_account,
            &f.alice_account,
            &alice,
            1_001,
        )],
        &[&f.alice],
        0,
        TokenError::InsufficientFunds,
    );
    let bob = f.bob.pubkey();
    f.env.expect_instruction_error(
        &[instruction::transfer(
            &f.alice_account,
            &f.alice_account,
            &bob,
            1,
        )],
        &[&f.bob],
        0,
        TokenError::OwnerMismatch,
    );
    // A delegate's self-transfer does not use up the allowance.
    let delegate = Keypair::new();
    f.env
        .send(
            &[instruction::approve(
                &f.alice_account,
                &delegate.pubkey(),
                &alice,
                10,
            )],
            &[&f.alice],
        )
        .unwrap();
    f.env
        .send(
            &[instruction::transfer(
                &f.alice_account,
                &f.alice_account,
                &delegate.pubkey(),
                10,
            )],
            &[&delegate],
        )
        .unwrap();
    assert_eq!(f.env.account(&f.alice_account).delegated_amount, 10);
}

#[test]
fn transfer_errors() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    f.env.expect_instruction_error(
        &[instruction::transfer(
            &f.alice_account,
            &f.bob_account,
            &alice,
            1_001,
        )],
        &[&f.alice],
        0,
        TokenError::InsufficientFunds,
    );
    let bob = f.bob.pubkey();
    f.env.expect_instruction_error(
        &[instruction::transfer(
            &f.alice_account,
            &f.bob_account,
            &bob,
            1,
        )],
        &[&f.bob],
        0,
        TokenError::OwnerMismatch,
    );
    let mut ix = instruction::transfer(&f.alice_account, &f.bob_account, &alice, 1);
    ix.accounts[2].is_signer = false;
    f.env
        .expect_instruction_error(&[ix], &[], 0, InstructionError::MissingRequiredSignature);
    // Another mint's account.
    let other_mint = f
        .env
        .create_mint(&f.mint_authority.pubkey(), None, DECIMALS);
    let other = f.env.create_account(&other_mint, &bob);
    f.env.expect_instruction_error(
        &[instruction::transfer(&f.alice_account, &other, &alice, 1)],
        &[&f.alice],
        0,
        TokenError::MintMismatch,
    );
    // Checked: the wrong mint, then the wrong decimals.
    f.env.expect_instruction_error(
        &[instruction::transfer_checked(
            &f.alice_account,
            &other_mint,
            &f.bob_account,
            &alice,
            1,
            DECIMALS,
        )],
        &[&f.alice],
        0,
        TokenError::MintMismatch,
    );
    f.env.expect_instruction_error(
        &[instruction::transfer_checked(
            &f.alice_account,
            &f.mint,
            &f.bob_account,
            &alice,
            1,
            DECIMALS - 1,
        )],
        &[&f.alice],
        0,
        TokenError::MintDecimalsMismatch,
    );
    // Uninitialized destination; too few accounts.
    let raw = f.env.create_raw(ACCOUNT_LEN);
    f.env.expect_instruction_error(
        &[instruction::transfer(&f.alice_account, &raw, &alice, 1)],
        &[&f.alice],
        0,
        InstructionError::UninitializedAccount,
    );
    let mut ix = instruction::transfer(&f.alice_account, &f.bob_account, &alice, 1);
    ix.accounts.truncate(2);
    f.env
        .expect_instruction_error(&[ix], &[], 0, InstructionError::NotEnoughAccountKeys);
    // Frozen source, frozen destination.
    let freezer = f.freeze_authority.pubkey();
    f.env
        .send(
            &[instruction::freeze_account(
                &f.bob_account,
                &f.mint,
                &freezer,
            )],
            &[&f.freeze_authority],
        )
        .unwrap();
    f.env.expect_instruction_error(
        &[instruction::transfer(
            &f.alice_account,
            &f.bob_account,
            &alice,
            1,
        )],
        &[&f.alice],
        0,
        TokenError::AccountFrozen,
    );
    f.env
        .send(
            &[instruction::thaw_account(&f.bob_account, &f.mint, &freezer)],
            &[&f.freeze_authority],
        )
        .unwrap();
    f.env
        .send(
            &[instruction::transfer(
                &f.alice_account,
                &f.bob_account,
                &alice,
                1,
            )],
            &[&f.alice],
        )
        .unwrap();
    // A failure in the second instruction rolls back the first.
    f.env.expect_instruction_error(
        &[
            instruction::transfer(&f.alice_account, &f.bob_account, &alice, 10),
            instruction::transfer(&f.alice_account, &f.bob_account, &alice, 10_000),
        ],
        &[&f.alice],
        1,
        TokenError::InsufficientFunds,
    );
}

#[test]
fn ownership_is_enforced() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    // A token-account-shaped account owned by someone else, as the destination.
    let fake = Keypair::new().pubkey();
    let state = TokenAccount {
        mint: f.mint,
        owner: alice,
        state: AccountState::Initialized,
        ..TokenAccount::default()
    };
    f.env.h.set_account(
        fake,
        Account::with_data(ACCOUNT_LAMPORTS, state.pack().to_vec(), &SYSTEM_PROGRAM_ID),
    );
    // Moving tokens into it is a write the runtime refuses.
    f.env.expect_instruction_error(
        &[instruction::transfer(&f.alice_account, &fake, &alice, 1)],
        &[&f.alice],
        0,
        InstructionError::ExternalAccountDataModified,
    );
    // Zero-amount and self transfers write nothing; the program checks ownership itself.
    f.env.expect_instruction_error(
        &[instruction::transfer(&f.alice_account, &fake, &alice, 0)],
        &[&f.alice],
        0,
        InstructionError::IncorrectProgramId,
    );
    f.env.expect_instruction_error(
        &[instruction::transfer(&fake, &fake, &alice, 0)],
        &[&f.alice],
        0,
        InstructionError::IncorrectProgramId,
    );
}

// ---------------------------------------------------------------- approve / revoke

#[test]
fn delegate_spends_its_allowance() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    let delegate = Keypair::new();
    f.env
        .send(
            &[instruction::approve(
                &f.alice_account,
                &delegate.pubkey(),
                &alice,
                100,
            )],
            &[&f.alice],
        )
        .unwrap();
    let account = f.env.account(&f.alice_account);
    assert_eq!(
        (account.delegate, account.delegated_amount),
        (Some(delegate.pubkey()), 100)
    );

    f.env
        .send(
            &[instruction::transfer(
                &f.alice_account,
                &f.bob_account,
                &delegate.pubkey(),
                60,
            )],
            &[&delegate],
        )
        .unwrap();
    assert_eq!(f.env.account(&f.alice_account).delegated_amount, 40);
    f.env.expect_instruction_error(
        &[instruction::transfer(
            &f.alice_account,
            &f.bob_account,
            &delegate.pubkey(),
            41,
        )],
        &[&delegate],
        0,
        TokenError::InsufficientFunds,
    );
    // Spending the rest clears the delegate.
    f.env
        .send(
            &[instruction::burn(
                &f.alice_account,
                &f.mint,
                &delegate.pubkey(),
                40,
            )],
            &[&delegate],
        )
        .unwrap();
    let account = f.env.account(&f.alice_account);
    assert_eq!(
        (account.delegate, account.delegated_amount, account.amount),
        (None, 0, 900)
    );
    assert_eq!(f.env.mint(&f.mint).supply, 960);
    // ... and the old delegate is now just a stranger.
    f.env.expect_instruction_error(
        &[instruction::transfer(
            &f.alice_account,
            &f.bob_account,
            &delegate.pubkey(),
            1,
        )],
        &[&delegate],
        0,
        TokenError::OwnerMismatch,
    );
}

#[test]
fn approve_checked_and_revoke() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    let delegate = Pubkey::new_from_array([5; 32]);
    f.env
        .send(
            &[instruction::approve_checked(
                &f.alice_account,
                &f.mint,
                &delegate,
                &alice,
                7,
                DECIMALS,
            )],
            &[&f.alice],
        )
        .unwrap();
    assert_eq!(f.env.account(&f.alice_account).delegated_amount, 7);
    f.env.expect_instruction_error(
        &[instruction::approve_checked(
            &f.alice_account,
            &f.mint,
            &delegate,
            &alice,
            7,
            0,
        )],
        &[&f.alice],
        0,
        TokenError::MintDecimalsMismatch,
    );
    let bob = f.bob.pubkey();
    f.env.expect_instruction_error(
        &[instruction::approve(&f.alice_account, &delegate, &bob, 7)],
        &[&f.bob],
        0,
        TokenError::OwnerMismatch,
    );
    f.env.expect_instruction_error(
        &[instruction::revoke(&f.alice_account, &bob)],
        &[&f.bob],
        0,
        TokenError::OwnerMismatch,
    );
    f.env
        .send(
            &[instruction::revoke(&f.alice_account, &alice)],
            &[&f.alice],
        )
        .unwrap();
    let account = f.env.account(&f.alice_account);
    assert_eq!((account.delegate, account.delegated_amount), (None, 0));
    // As in SPL, the revoked delegate's key stays behind the zero tag.
    let data = f.env.h.get_account(&f.alice_account).unwrap().data;
    assert_eq!(&data[72..76], &[0, 0, 0, 0]);
    assert_eq!(&data[76..108], &[5; 32]);
}

// ---------------------------------------------------------------- burn

#[test]
fn burn_destroys_tokens() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    f.env
        .send(
            &[instruction::burn(&f.alice_account, &f.mint, &alice, 100)],
            &[&f.alice],
        )
        .unwrap();
    f.env
        .send(
            &[instruction::burn_checked(
                &f.alice_account,
                &f.mint,
                &alice,
                50,
                DECIMALS,
            )],
            &[&f.alice],
        )
        .unwrap();
    assert_eq!(f.env.balance(&f.alice_account), 850);
    assert_eq!(f.env.mint(&f.mint).supply, 850);
}

#[test]
fn burn_errors() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    f.env.expect_instruction_error(
        &[instruction::burn(&f.alice_account, &f.mint, &alice, 1_001)],
        &[&f.alice],
        0,
        TokenError::InsufficientFunds,
    );
    f.env.expect_instruction_error(
        &[instruction::burn_checked(
            &f.alice_account,
            &f.mint,
            &alice,
            1,
            0,
        )],
        &[&f.alice],
        0,
        TokenError::MintDecimalsMismatch,
    );
    let bob = f.bob.pubkey();
    f.env.expect_instruction_error(
        &[instruction::burn(&f.alice_account, &f.mint, &bob, 1)],
        &[&f.bob],
        0,
        TokenError::OwnerMismatch,
    );
    let other_mint = f
        .env
        .create_mint(&f.mint_authority.pubkey(), None, DECIMALS);
    f.env.expect_instruction_error(
        &[instruction::burn(&f.alice_account, &other_mint, &alice, 1)],
        &[&f.alice],
        0,
        TokenError::MintMismatch,
    );
}

#[test]
fn anyone_burns_from_system_owned_holders() {
    let mut f = fixture();
    // Tokens held for the System program's address: anyone may burn them, as in SPL.
    let account = f.env.create_account(&f.mint, &SYSTEM_PROGRAM_ID);
    let authority = f.mint_authority.pubkey();
    f.env
        .send(
            &[instruction::mint_to(&f.mint, &account, &authority, 10)],
            &[&f.mint_authority],
        )
        .unwrap();
    let stranger = Keypair::new();
    f.env
        .send(
            &[instruction::burn(&account, &f.mint, &stranger.pubkey(), 10)],
            &[&stranger],
        )
        .unwrap();
    assert_eq!(f.env.balance(&account), 0);
    assert_eq!(f.env.mint(&f.mint).supply, 1_000);
}

// ---------------------------------------------------------------- close

#[test]
fn close_account_returns_lamports_and_deletes() {
    let mut f = fixture();
    let bob = f.bob.pubkey();
    let destination = Pubkey::new_from_array([42; 32]);
    f.env
        .send(
            &[instruction::close_account(
                &f.bob_account,
                &destination,
                &bob,
            )],
            &[&f.bob],
        )
        .unwrap();
    assert_eq!(f.env.h.get_account(&f.bob_account), None);
    assert_eq!(f.env.lamports(&destination), ACCOUNT_LAMPORTS);
}

#[test]
fn close_authority_closes() {
    let mut f = fixture();
    let bob = f.bob.pubkey();
    let closer = Keypair::new();
    f.env
        .send(
            &[instruction::set_authority(
                &f.bob_account,
                Some(&closer.pubkey()),
                AuthorityType::CloseAccount,
                &bob,
            )],
            &[&f.bob],
        )
        .unwrap();
    // The owner no longer may.
    f.env.expect_instruction_error(
        &[instruction::close_account(&f.bob_account, &bob, &bob)],
        &[&f.bob],
        0,
        TokenError::OwnerMismatch,
    );
    f.env
        .send(
            &[instruction::close_account(
                &f.bob_account,
                &closer.pubkey(),
                &closer.pubkey(),
            )],
            &[&closer],
        )
        .unwrap();
    assert_eq!(f.env.lamports(&closer.pubkey()), ACCOUNT_LAMPORTS);
    assert_eq!(f.env.h.get_account(&f.bob_account), None);
}

#[test]
fn close_account_errors() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    f.env.expect_instruction_error(
        &[instruction::close_account(&f.alice_account, &alice, &alice)],
        &[&f.alice],
        0,
        TokenError::NonNativeHasBalance,
    );
    let bob = f.bob.pubkey();
    f.env.expect_instruction_error(
        &[instruction::close_account(
            &f.bob_account,
            &f.bob_account,
            &bob,
        )],
        &[&f.bob],
        0,
        InstructionError::InvalidAccountData,
    );
    f.env.expect_instruction_error(
        &[instruction::close_account(&f.bob_account, &alice, &alice)],
        &[&f.alice],
        0,
        TokenError::OwnerMismatch,
    );
    let mut ix = instruction::close_account(&f.bob_account, &alice, &bob);
    ix.accounts[2].is_signer = false;
    f.env
        .expect_instruction_error(&[ix], &[], 0, InstructionError::MissingRequiredSignature);
}

#[test]
fn close_then_create_in_one_transaction() {
    let mut f = fixture();
    let bob = f.bob.pubkey();
    let payer = f.env.payer.pubkey();
    let fresh = Keypair::new();
    // Close, then create a new account at another address with the lamports: one transaction.
    f.env
        .send(
            &[
                instruction::close_account(&f.bob_account, &payer, &bob),
                system_instruction::create_account(
                    &payer,
                    &fresh.pubkey(),
                    ACCOUNT_LAMPORTS,
                    ACCOUNT_LEN as u64,
                    &token::ID,
                ),
                instruction::initialize_account3(&fresh.pubkey(), &f.mint, &bob),
            ],
            &[&f.bob, &fresh],
        )
        .unwrap();
    assert_eq!(f.env.h.get_account(&f.bob_account), None);
    assert_eq!(f.env.account(&fresh.pubkey()).owner, bob);
}

// ---------------------------------------------------------------- freeze / set_authority

#[test]
fn freeze_and_thaw() {
    let mut f = fixture();
    let freezer = f.freeze_authority.pubkey();
    let alice = f.alice.pubkey();
    f.env
        .send(
            &[instruction::freeze_account(
                &f.alice_account,
                &f.mint,
                &freezer,
            )],
            &[&f.freeze_authority],
        )
        .unwrap();
    assert_eq!(f.env.account(&f.alice_account).state, AccountState::Frozen);
    f.env.expect_instruction_error(
        &[instruction::freeze_account(
            &f.alice_account,
            &f.mint,
            &freezer,
        )],
        &[&f.freeze_authority],
        0,
        TokenError::InvalidState,
    );
    for ix in [
        instruction::transfer(&f.alice_account, &f.bob_account, &alice, 1),
        instruction::burn(&f.alice_account, &f.mint, &alice, 1),
        instruction::approve(&f.alice_account, &f.bob.pubkey(), &alice, 1),
        instruction::revoke(&f.alice_account, &alice),
        instruction::set_authority(&f.alice_account, None, AuthorityType::CloseAccount, &alice),
    ] {
        f.env
            .expect_instruction_error(&[ix], &[&f.alice], 0, TokenError::AccountFrozen);
    }
    f.env.expect_instruction_error(
        &[instruction::thaw_account(&f.alice_account, &f.mint, &alice)],
        &[&f.alice],
        0,
        TokenError::OwnerMismatch,
    );
    f.env
        .send(
            &[instruction::thaw_account(
                &f.alice_account,
                &f.mint,
                &freezer,
            )],
            &[&f.freeze_authority],
        )
        .unwrap();
    assert_eq!(
        f.env.account(&f.alice_account).state,
        AccountState::Initialized
    );
    f.env.expect_instruction_error(
        &[instruction::thaw_account(
            &f.alice_account,
            &f.mint,
            &freezer,
        )],
        &[&f.freeze_authority],
        0,
        TokenError::InvalidState,
    );
    // A mint without a freeze authority cannot freeze.
    let authority = f.mint_authority.pubkey();
    let plain_mint = f.env.create_mint(&authority, None, 0);
    let account = f.env.create_account(&plain_mint, &alice);
    f.env.expect_instruction_error(
        &[instruction::freeze_account(
            &account,
            &plain_mint,
            &authority,
        )],
        &[&f.mint_authority],
        0,
        TokenError::MintCannotFreeze,
    );
}

#[test]
fn set_authority_paths() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    let bob = f.bob.pubkey();
    // Account owner: Alice gives her account to Bob; a delegate is cleared.
    f.env
        .send(
            &[instruction::approve(&f.alice_account, &bob, &alice, 5)],
            &[&f.alice],
        )
        .unwrap();
    f.env
        .send(
            &[instruction::set_authority(
                &f.alice_account,
                Some(&bob),
                AuthorityType::AccountOwner,
                &alice,
            )],
            &[&f.alice],
        )
        .unwrap();
    let account = f.env.account(&f.alice_account);
    assert_eq!(
        (account.owner, account.delegate, account.delegated_amount),
        (bob, None, 0)
    );
    // Removing the owner is invalid.
    f.env.expect_instruction_error(
        &[instruction::set_authority(
            &f.alice_account,
            None,
            AuthorityType::AccountOwner,
            &bob,
        )],
        &[&f.bob],
        0,
        TokenError::InvalidInstruction,
    );
    // Mint authorities on an account, account authorities on a mint.
    f.env.expect_instruction_error(
        &[instruction::set_authority(
            &f.alice_account,
            Some(&bob),
            AuthorityType::MintTokens,
            &bob,
        )],
        &[&f.bob],
        0,
        TokenError::AuthorityTypeNotSupported,
    );
    let authority = f.mint_authority.pubkey();
    f.env.expect_instruction_error(
        &[instruction::set_authority(
            &f.mint,
            Some(&bob),
            AuthorityType::CloseAccount,
            &authority,
        )],
        &[&f.mint_authority],
        0,
        TokenError::AuthorityTypeNotSupported,
    );
    // Freeze authority moves to Bob, then is removed; then it cannot be set again.
    let freezer = f.freeze_authority.pubkey();
    f.env
        .send(
            &[instruction::set_authority(
                &f.mint,
                Some(&bob),
                AuthorityType::FreezeAccount,
                &freezer,
            )],
            &[&f.freeze_authority],
        )
        .unwrap();
    assert_eq!(f.env.mint(&f.mint).freeze_authority, Some(bob));
    f.env
        .send(
            &[instruction::set_authority(
                &f.mint,
                None,
                AuthorityType::FreezeAccount,
                &bob,
            )],
            &[&f.bob],
        )
        .unwrap();
    f.env.expect_instruction_error(
        &[instruction::set_authority(
            &f.mint,
            Some(&bob),
            AuthorityType::FreezeAccount,
            &bob,
        )],
        &[&f.bob],
        0,
        TokenError::MintCannotFreeze,
    );
    // Neither a mint nor an account.
    let odd = f.env.create_raw(100);
    f.env.expect_instruction_error(
        &[instruction::set_authority(
            &odd,
            Some(&bob),
            AuthorityType::MintTokens,
            &bob,
        )],
        &[&f.bob],
        0,
        InstructionError::InvalidArgument,
    );
}

// ---------------------------------------------------------------- unsupported and malformed

fn raw_instruction(data: &[u8], accounts: Vec<AccountMeta>) -> Instruction {
    Instruction {
        program_id: token::ID,
        accounts,
        data: data.to_vec(),
    }
}

#[test]
fn malformed_data_is_invalid_instruction_data() {
    let mut f = fixture();
    let account = AccountMeta::new(f.alice_account, false);
    for data in [
        &[][..],
        &[3, 1, 2],
        &[25],
        &[0xFF, 0, 0],
        &[12, 1, 0, 0, 0, 0, 0, 0, 0],
    ] {
        f.env.expect_instruction_error(
            &[raw_instruction(data, vec![account])],
            &[],
            0,
            InstructionError::InvalidInstructionData,
        );
    }
}

#[test]
fn unsupported_instructions() {
    let mut f = fixture();
    let account = AccountMeta::new(f.alice_account, false);
    // Multisig and return-data instructions.
    for data in [
        &[2u8, 1][..],
        &[19, 1],
        &[21],
        &[23, 1, 0, 0, 0, 0, 0, 0, 0],
        &[24, b'1'],
    ] {
        f.env.expect_instruction_error(
            &[raw_instruction(data, vec![account])],
            &[],
            0,
            InstructionError::InvalidInstructionData,
        );
    }
    // SyncNative on an ordinary account.
    f.env.expect_instruction_error(
        &[raw_instruction(&[17], vec![account])],
        &[],
        0,
        TokenError::NonNativeNotSupported,
    );
    // A native account (only set_account can make one) cannot send or receive minted tokens.
    let alice = f.alice.pubkey();
    let native = f.env.set_token_account(&TokenAccount {
        mint: f.mint,
        owner: alice,
        amount: 5,
        state: AccountState::Initialized,
        is_native: Some(1),
        ..TokenAccount::default()
    });
    f.env.expect_instruction_error(
        &[instruction::transfer(&native, &f.alice_account, &alice, 1)],
        &[&f.alice],
        0,
        TokenError::NativeNotSupported,
    );
    let authority = f.mint_authority.pubkey();
    f.env.expect_instruction_error(
        &[instruction::mint_to(&f.mint, &native, &authority, 1)],
        &[&f.mint_authority],
        0,
        TokenError::NativeNotSupported,
    );
    f.env.expect_instruction_error(
        &[raw_instruction(
            &[17],
            vec![AccountMeta::new(native, false)],
        )],
        &[],
        0,
        TokenError::NativeNotSupported,
    );
    // InitializeImmutableOwner: fine before initialization, AlreadyInUse after.
    let raw = f.env.create_raw(ACCOUNT_LEN);
    f.env
        .send(&[instruction::initialize_immutable_owner(&raw)], &[])
        .unwrap();
    f.env.expect_instruction_error(
        &[instruction::initialize_immutable_owner(&f.alice_account)],
        &[],
        0,
        TokenError::AlreadyInUse,
    );
}

#[test]
fn compute_budget_exhaustion_fails() {
    let mut f = fixture();
    let alice = f.alice.pubkey();
    // A budget smaller than one token instruction.
    let limit =
        braid_runtime::compute_budget::set_compute_unit_limit((TOKEN_INSTRUCTION_UNITS - 1) as u32);
    f.env.expect_failure(
        &[
            limit,
            instruction::transfer(&f.alice_account, &f.bob_account, &alice, 1),
        ],
        &[&f.alice],
        TransactionError::InstructionError(1, InstructionError::ComputationalBudgetExceeded),
    );
}
