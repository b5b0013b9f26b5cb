//! The oracle program in the harness, and `load_price` on hand-made accounts.

use braid_program_oracle::{
    FEED_BYTES, ID, OracleError, OracleProgram, Price, PriceFeed, initialize_feed, load_price,
    set_price,
};
use braid_program_system::SystemProgram;
use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::{
    Account, Instruction, InstructionError, Pubkey, Transaction, TransactionError,
};

const AIRDROP_LAMPORTS: u64 = 100_000_000;
const FEED_LAMPORTS: u64 = 1_000_000;
const EXPONENT: i32 = -6;

fn send(
    h: &mut Harness,
    payer: &Keypair,
    signers: &[&Keypair],
    ixs: &[Instruction],
) -> Result<(), TransactionError> {
    let mut all = vec![payer];
    all.extend_from_slice(signers);
    let tx =
        Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, h.latest_blockhash());
    h.send_transaction(tx)
        .map(|_| ())
        .map_err(|failed| failed.err)
}

/// A harness with a feed owned by `authority` (also the payer).
fn setup() -> (Harness, Keypair, Pubkey) {
    let mut h = Harness::new();
    h.add_program(SystemProgram).add_program(OracleProgram);
    let authority = Keypair::new();
    h.airdrop(&authority.pubkey(), AIRDROP_LAMPORTS).unwrap();
    let feed = Keypair::new();
    let create = braid_program_system::instruction::create_account(
        &authority.pubkey(),
        &feed.pubkey(),
        FEED_LAMPORTS,
        FEED_BYTES as u64,
        &ID,
    );
    send(
        &mut h,
        &authority,
        &[&feed],
        &[
            create,
            initialize_feed(&feed.pubkey(), &authority.pubkey(), EXPONENT),
        ],
    )
    .unwrap();
    (h, authority, feed.pubkey())
}

fn feed_state(h: &Harness, feed: &Pubkey) -> PriceFeed {
    PriceFeed::unpack(&h.get_account(feed).unwrap().data).unwrap()
}

#[test]
fn initialize_then_set_price_then_load() {
    let (mut h, authority, feed) = setup();
    assert_eq!(
        feed_state(&h, &feed),
        PriceFeed {
            is_initialized: true,
            authority: authority.pubkey(),
            price: 0,
            confidence: 0,
            exponent: EXPONENT,
            last_updated_slot: 0
        }
    );
    h.warp_to_slot(7);
    send(
        &mut h,
        &authority,
        &[],
        &[set_price(&feed, &authority.pubkey(), 1_500_000, 200)],
    )
    .unwrap();
    let account = h.get_account(&feed).unwrap();
    assert_eq!(
        load_price(&account, 7, 0),
        Ok(Price {
            price: 1_500_000,
            confidence: 200,
            exponent: EXPONENT,
            slot: 7
        })
    );
    // Exactly `max_age_slots` old is still fresh.
    assert_eq!(load_price(&account, 17, 10).map(|p| p.price), Ok(1_500_000));
}

#[test]
fn only_the_authority_sets_the_price() {
    let (mut h, authority, feed) = setup();
    let intruder = Keypair::new();
    h.airdrop(&intruder.pubkey(), AIRDROP_LAMPORTS).unwrap();
    assert_eq!(
        send(
            &mut h,
            &intruder,
            &[],
            &[set_price(&feed, &intruder.pubkey(), 1, 0)]
        ),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::Custom(OracleError::NotAuthority as u32)
        ))
    );
    // The authority's key without its signature.
    let mut unsigned = set_price(&feed, &authority.pubkey(), 1, 0);
    unsigned.accounts[1].is_signer = false;
    unsigned
        .accounts
        .push(braid_runtime::AccountMeta::new_readonly(
            intruder.pubkey(),
            true,
        ));
    assert_eq!(
        send(&mut h, &intruder, &[], &[unsigned]),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::MissingRequiredSignature
        ))
    );
    assert_eq!(feed_state(&h, &feed).price, 0);
}

#[test]
fn price_must_be_positive() {
    let (mut h, authority, feed) = setup();
    for price in [0, -5] {
        assert_eq!(
            send(
                &mut h,
                &authority,
                &[],
                &[set_price(&feed, &authority.pubkey(), price, 0)]
            ),
            Err(TransactionError::InstructionError(
                0,
                OracleError::InvalidPrice.into()
            ))
        );
    }
}

#[test]
fn initializing_twice_fails() {
    let (mut h, authority, feed) = setup();
    assert_eq!(
        send(
            &mut h,
            &authority,
            &[],
            &[initialize_feed(&feed, &authority.pubkey(), 0)]
        ),
        Err(TransactionError::InstructionError(
            0,
            OracleError::AlreadyInitialized.into()
        ))
    );
}

#[test]
fn set_price_on_an_uninitialized_feed_fails() {
    let (mut h, authority, _) = setup();
    let blank = Pubkey::from([9; 32]);
    h.set_account(blank, Account::new(FEED_LAMPORTS, FEED_BYTES, &ID));
    assert_eq!(
        send(
            &mut h,
            &authority,
            &[],
            &[set_price(&blank, &authority.pubkey(), 1, 0)]
        ),
        Err(TransactionError::InstructionError(
            0,
            OracleError::Uninitialized.into()
        ))
    );
}

#[test]
fn stale_price_is_rejected() {
    let (mut h, authority, feed) = setup();
    h.warp_to_slot(100);
    send(
        &mut h,
        &authority,
        &[],
        &[set_price(&feed, &authority.pubkey(), 42, 1)],
    )
    .unwrap();
    let account = h.get_account(&feed).unwrap();
    assert!(load_price(&account, 125, 25).is_ok());
    assert_eq!(load_price(&account, 126, 25), Err(OracleError::StalePrice));
    // A price stamped "in the future" is age zero rather than an underflow.
    assert!(load_price(&account, 50, 0).is_ok());
}

#[test]
fn not_owned_account_is_rejected() {
    let (mut h, authority, feed) = setup();
    send(
        &mut h,
        &authority,
        &[],
        &[set_price(&feed, &authority.pubkey(), 42, 1)],
    )
    .unwrap();
    let mut forged = h.get_account(&feed).unwrap();
    forged.owner = Pubkey::from([3; 32]);
    assert_eq!(load_price(&forged, 0, 10), Err(OracleError::WrongOwner));

    // The program itself refuses to write an account it does not own.
    let foreign = Pubkey::from([4; 32]);
    h.set_account(
        foreign,
        Account::new(FEED_LAMPORTS, FEED_BYTES, &Pubkey::from([3; 32])),
    );
    assert_eq!(
        send(
            &mut h,
            &authority,
            &[],
            &[initialize_feed(&foreign, &authority.pubkey(), 0)]
        ),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::IncorrectProgramId
        ))
    );
}

#[test]
fn malformed_data_is_rejected() {
    let (mut h, authority, feed) = setup();
    let mut account = Account::new(1, FEED_BYTES, &ID);
    assert_eq!(load_price(&account, 0, 10), Err(OracleError::Uninitialized));
    account.data[0] = 1;
    assert_eq!(load_price(&account, 0, 10), Err(OracleError::PriceNotSet));
    account.data[0] = 2; // not a bool
    assert_eq!(
        load_price(&account, 0, 10),
        Err(OracleError::InvalidFeedData)
    );
    for len in [0, FEED_BYTES - 1, FEED_BYTES + 1] {
        let short = Account::new(1, len, &ID);
        assert_eq!(load_price(&short, 0, 10), Err(OracleError::InvalidFeedData));
    }

    let wrong_size = Pubkey::from([5; 32]);
    h.set_account(wrong_size, Account::new(FEED_LAMPORTS, FEED_BYTES + 1, &ID));
    assert_eq!(
        send(
            &mut h,
            &authority,
            &[],
            &[initialize_feed(&wrong_size, &authority.pubkey(), 0)]
        ),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::InvalidAccountData
        ))
    );

    let mut garbage = set_price(&feed, &authority.pubkey(), 1, 1);
    garbage.data = vec![1, 2, 3];
    assert_eq!(
        send(&mut h, &authority, &[], &[garbage]),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::InvalidInstructionData
        ))
    );

    let mut missing = set_price(&feed, &authority.pubkey(), 1, 1);
    missing.accounts.truncate(1);
    assert_eq!(
        send(&mut h, &authority, &[], &[missing]),
        Err(TransactionError::InstructionError(
            0,
            InstructionError::NotEnoughAccountKeys
        ))
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// No byte string of any owner or length panics `load_price`, and a success is
        /// always a positive, fresh price.
        #[test]
        fn load_price_never_panics(data in proptest::collection::vec(any::<u8>(), 0..80), owned: bool,
                                   current in any::<u64>(), max_age in any::<u64>()) {
            let owner = if owned { ID } else { Pubkey::default() };
            let account = Account { lamports: 1, owner, executable: false, data };
            if let Ok(price) = load_price(&account, current, max_age) {
                prop_assert!(owned);
                prop_assert!(price.price > 0);
                prop_assert!(current.saturating_sub(price.slot) <= max_age);
            }
        }
    }
}
