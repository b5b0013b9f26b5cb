//! Byte-level tests of the wire format and of every sanitize rule, from a transaction
//! encoded by hand, plus property tests that no input panics and valid ones round-trip.

// Tests compute offsets and sizes of small, known values; an overflow would be a bug in
// the test and panics in the debug builds tests run in.
#![allow(clippy::arithmetic_side_effects)]

use braid_runtime::instruction::{AccountMeta, Instruction};
use braid_runtime::sanitized::{PACKET_DATA_BYTES_MAX, SanitizedTransaction, TX_ACCOUNT_LOCKS_MAX};
use braid_runtime::{
    CompiledInstruction, Hash, Message, MessageHeader, Pubkey, SYSTEM_PROGRAM_ID, SanitizeError,
    Signature, Transaction,
};
use proptest::prelude::*;

const PAYER: [u8; 32] = [0xAA; 32];
const RECIPIENT: [u8; 32] = [0xBB; 32];
const BLOCKHASH: [u8; 32] = [0xCC; 32];
const SIGNATURE: [u8; 64] = [0x11; 64];

// Offsets into `minimal_transfer()`, derived below.
const NUM_REQUIRED: usize = 65;
const NUM_READONLY_SIGNED: usize = 66;
const NUM_READONLY_UNSIGNED: usize = 67;
const RECIPIENT_KEY: usize = 101;
const PROGRAM_ID_INDEX: usize = 198;
const SECOND_ACCOUNT_INDEX: usize = 201;
const TRANSFER_LEN: usize = 215;

/// A System transfer of 1000 lamports from PAYER to RECIPIENT, encoded by hand:
///
/// | offset  | bytes         | meaning                                               |
/// |---------|---------------|-------------------------------------------------------|
/// | 0       | `01`          | compact-u16: one signature                            |
/// | 1..65   | `11` × 64     | the signature                                         |
/// | 65      | `01`          | header: 1 required signature (the payer)              |
/// | 66      | `00`          | header: 0 readonly signers                            |
/// | 67      | `01`          | header: 1 readonly unsigned key (the System program)  |
/// | 68      | `03`          | compact-u16: three account keys                       |
/// | 69..101 | `AA` × 32     | key 0, payer: writable signer                         |
/// | 101..133| `BB` × 32     | key 1, recipient: writable unsigned                   |
/// | 133..165| `00` × 32     | key 2, System program id (32 zero bytes): readonly    |
/// | 165..197| `CC` × 32     | recent blockhash                                      |
/// | 197     | `01`          | compact-u16: one instruction                          |
/// | 198     | `02`          | program id index 2 (System)                           |
/// | 199     | `02`          | compact-u16: two account indexes                      |
/// | 200..202| `00 01`       | from = key 0, to = key 1                              |
/// | 202     | `0c`          | compact-u16: 12 bytes of data                         |
/// | 203..207| `02 00 00 00` | u32 LE tag 2: Transfer                                |
/// | 207..215| `e8 03 00 ..` | u64 LE lamports: 1000                                 |
fn minimal_transfer() -> Vec<u8> {
    let mut bytes = vec![0x01];
    bytes.extend_from_slice(&SIGNATURE);
    bytes.extend_from_slice(&[0x01, 0x00, 0x01]);
    bytes.push(0x03);
    bytes.extend_from_slice(&PAYER);
    bytes.extend_from_slice(&RECIPIENT);
    bytes.extend_from_slice(&[0x00; 32]);
    bytes.extend_from_slice(&BLOCKHASH);
    bytes.push(0x01);
    bytes.extend_from_slice(&[0x02, 0x02, 0x00, 0x01, 0x0c]);
    bytes.extend_from_slice(&[0x02, 0x00, 0x00, 0x00]);
    bytes.extend_from_slice(&1000u64.to_le_bytes());
    assert_eq!(bytes.len(), TRANSFER_LEN);
    bytes
}

fn transfer_instruction() -> Instruction {
    let mut data = vec![0x02, 0x00, 0x00, 0x00];
    data.extend_from_slice(&1000u64.to_le_bytes());
    Instruction {
        program_id: SYSTEM_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(Pubkey::new_from_array(PAYER), true),
            AccountMeta::new(Pubkey::new_from_array(RECIPIENT), false),
        ],
        data,
    }
}

fn sanitize(bytes: &[u8]) -> Result<SanitizedTransaction, SanitizeError> {
    SanitizedTransaction::try_from_bytes(bytes)
}

fn with(mut bytes: Vec<u8>, offset: usize, value: u8) -> Vec<u8> {
    bytes[offset] = value;
    bytes
}

#[test]
fn hand_encoded_transfer_decodes_field_by_field() {
    let bytes = minimal_transfer();
    let tx = sanitize(&bytes).unwrap();
    let expected = Transaction {
        signatures: vec![Signature(SIGNATURE)],
        message: Message {
            address_table_lookups: None,
            header: MessageHeader {
                num_required_signatures: 1,
                num_readonly_signed_accounts: 0,
                num_readonly_unsigned_accounts: 1,
            },
            account_keys: vec![
                Pubkey::new_from_array(PAYER),
                Pubkey::new_from_array(RECIPIENT),
                SYSTEM_PROGRAM_ID,
            ],
            recent_blockhash: Hash::new_from_array(BLOCKHASH),
            instructions: vec![CompiledInstruction {
                program_id_index: 2,
                accounts: vec![0, 1],
                data: transfer_instruction().data,
            }],
        },
    };
    assert_eq!(tx.transaction(), &expected);
    assert_eq!(expected.to_bytes(), bytes);
    assert_eq!(tx.message_bytes(), &bytes[NUM_REQUIRED..]);
    assert_eq!(tx.fee_payer(), &Pubkey::new_from_array(PAYER));
    assert_eq!(
        tx.writable_keys().copied().collect::<Vec<_>>(),
        expected.message.account_keys[..2]
    );
    assert_eq!(
        tx.readonly_keys().copied().collect::<Vec<_>>(),
        [SYSTEM_PROGRAM_ID]
    );
    assert!(tx.is_signer(0) && !tx.is_signer(1) && !tx.is_signer(2));
    assert!(tx.is_writable(0) && tx.is_writable(1) && !tx.is_writable(2) && !tx.is_writable(3));

    // Compiling the instruction gives the same message.
    let compiled = Message::new_with_blockhash(
        &[transfer_instruction()],
        Some(&Pubkey::new_from_array(PAYER)),
        &Hash::new_from_array(BLOCKHASH),
    );
    assert_eq!(compiled, expected.message);
}

#[test]
fn too_large() {
    let mut bytes = minimal_transfer();
    bytes.resize(PACKET_DATA_BYTES_MAX + 1, 0);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::TooLarge { len: 1233 }
    );
    assert_eq!(
        Transaction::from_bytes(&bytes).unwrap_err(),
        SanitizeError::TooLarge { len: 1233 }
    );
    // In memory: a transfer with 1000 bytes of extra data no longer fits a packet.
    let mut ix = transfer_instruction();
    ix.data.resize(1_100, 0);
    let message = Message::new(&[ix], Some(&Pubkey::new_from_array(PAYER)));
    let mut tx = Transaction::new_unsigned(message);
    tx.signatures = vec![Signature(SIGNATURE)];
    assert!(
        matches!(SanitizedTransaction::try_new(tx), Err(SanitizeError::TooLarge { len }) if len > 1232)
    );
}

#[test]
fn trailing_bytes() {
    let mut bytes = minimal_transfer();
    bytes.extend_from_slice(&[0, 0]);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::TrailingBytes { extra: 2 }
    );
}

#[test]
fn truncated_at_every_prefix() {
    let bytes = minimal_transfer();
    for len in 0..bytes.len() {
        assert_eq!(
            sanitize(&bytes[..len]).unwrap_err(),
            SanitizeError::Truncated,
            "prefix {len}"
        );
        assert_eq!(
            Transaction::from_bytes(&bytes[..len]).unwrap_err(),
            SanitizeError::Truncated
        );
    }
}

#[test]
fn a_length_count_larger_than_the_input_is_truncated_without_allocating() {
    // 0xff 0xff 0x03 = 65535 signatures, in a 3-byte input.
    assert_eq!(
        sanitize(&[0xff, 0xff, 0x03]).unwrap_err(),
        SanitizeError::Truncated
    );
}

#[test]
fn invalid_compact_u16() {
    // Signature count 1 written as 0x81 0x00: an alias of 0x01.
    let mut bytes = vec![0x81, 0x00];
    bytes.extend_from_slice(&minimal_transfer()[1..]);
    assert_eq!(sanitize(&bytes).unwrap_err(), SanitizeError::InvalidLength);
    // Data length with bit 16 set.
    let mut bytes = minimal_transfer();
    bytes.splice(202..203, [0x80, 0x80, 0x04]);
    assert_eq!(sanitize(&bytes).unwrap_err(), SanitizeError::InvalidLength);
}

#[test]
fn signature_count_mismatch() {
    let bytes = with(minimal_transfer(), NUM_REQUIRED, 2);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::SignatureCountMismatch {
            signatures: 1,
            required: 2
        }
    );
}

#[test]
fn no_fee_payer() {
    // No signatures and a header requiring none.
    let mut bytes = vec![0x00];
    bytes.extend_from_slice(&minimal_transfer()[NUM_REQUIRED..]);
    bytes[1] = 0;
    assert_eq!(sanitize(&bytes).unwrap_err(), SanitizeError::NoFeePayer);
}

#[test]
fn no_writable_signer() {
    let bytes = with(minimal_transfer(), NUM_READONLY_SIGNED, 1);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::NoWritableSigner
    );
}

#[test]
fn header_exceeds_account_keys() {
    let bytes = with(minimal_transfer(), NUM_READONLY_UNSIGNED, 3);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::HeaderExceedsAccountKeys { keys: 3 }
    );
}

#[test]
fn program_index_out_of_range() {
    let bytes = with(minimal_transfer(), PROGRAM_ID_INDEX, 3);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::IndexOutOfRange {
            instruction: 0,
            index: 3
        }
    );
}

#[test]
fn account_index_out_of_range() {
    let bytes = with(minimal_transfer(), SECOND_ACCOUNT_INDEX, 7);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::IndexOutOfRange {
            instruction: 0,
            index: 7
        }
    );
}

#[test]
fn program_id_is_fee_payer() {
    let bytes = with(minimal_transfer(), PROGRAM_ID_INDEX, 0);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::ProgramIdIsFeePayer { instruction: 0 }
    );
}

#[test]
fn program_id_not_readonly() {
    let bytes = with(minimal_transfer(), PROGRAM_ID_INDEX, 1);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::ProgramIdNotReadonly { instruction: 0 }
    );
}

#[test]
fn account_loaded_twice() {
    let mut bytes = minimal_transfer();
    bytes[RECIPIENT_KEY..RECIPIENT_KEY + 32].copy_from_slice(&PAYER);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::AccountLoadedTwice(Pubkey::new_from_array(PAYER))
    );
}

fn many_keys(count: usize) -> Transaction {
    let mut account_keys: Vec<Pubkey> = (0..count)
        .map(|i| Pubkey::new_from_array([u8::try_from(i + 1).unwrap(); 32]))
        .collect();
    account_keys[count - 1] = SYSTEM_PROGRAM_ID;
    Transaction {
        signatures: vec![Signature(SIGNATURE)],
        message: Message {
            address_table_lookups: None,
            header: MessageHeader {
                num_required_signatures: 1,
                num_readonly_signed_accounts: 0,
                num_readonly_unsigned_accounts: 1,
            },
            account_keys,
            recent_blockhash: Hash::new_from_array(BLOCKHASH),
            instructions: vec![CompiledInstruction {
                program_id_index: u8::try_from(count - 1).unwrap(),
                accounts: vec![0],
                data: vec![],
            }],
        },
    }
}

#[test]
fn too_many_account_locks() {
    assert_eq!(
        SanitizedTransaction::try_new(many_keys(TX_ACCOUNT_LOCKS_MAX + 1)).unwrap_err(),
        SanitizeError::TooManyAccountLocks(65)
    );
    // 64 keys pass the rules but not the packet size, which try_new checks last.
    assert!(matches!(
        SanitizedTransaction::try_new(many_keys(TX_ACCOUNT_LOCKS_MAX)).unwrap_err(),
        SanitizeError::TooLarge { .. }
    ));
    // 30 keys fit; the sorted duplicate scan finds the smallest duplicate.
    let mut tx = many_keys(30);
    assert!(SanitizedTransaction::try_new(tx.clone()).is_ok());
    tx.message.account_keys[20] = tx.message.account_keys[5];
    tx.message.account_keys[25] = tx.message.account_keys[3];
    assert_eq!(
        SanitizedTransaction::try_new(tx).unwrap_err(),
        SanitizeError::AccountLoadedTwice(Pubkey::new_from_array([4; 32]))
    );
}

#[test]
fn rules_are_reported_in_the_documented_order() {
    // Too many keys is reported before duplicates and bad indexes.
    let mut tx = many_keys(TX_ACCOUNT_LOCKS_MAX + 1);
    tx.message.account_keys[1] = tx.message.account_keys[0];
    tx.message.instructions[0].accounts.push(200);
    assert_eq!(
        SanitizedTransaction::try_new(tx).unwrap_err(),
        SanitizeError::TooManyAccountLocks(65)
    );
    // A bad index is reported before a duplicate.
    let mut bytes = with(minimal_transfer(), SECOND_ACCOUNT_INDEX, 9);
    bytes[RECIPIENT_KEY..RECIPIENT_KEY + 32].copy_from_slice(&PAYER);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::IndexOutOfRange {
            instruction: 0,
            index: 9
        }
    );
    // The signature count is checked before the header's other rules.
    let bytes = with(
        with(minimal_transfer(), NUM_REQUIRED, 2),
        NUM_READONLY_SIGNED,
        2,
    );
    assert!(matches!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::SignatureCountMismatch { .. }
    ));
    // Oversized input is rejected before it is parsed, even if it is garbage.
    assert_eq!(
        sanitize(&[0xff; 2000]).unwrap_err(),
        SanitizeError::TooLarge { len: 2000 }
    );
    // Trailing bytes are only known once a whole transaction was read.
    let mut bytes = with(minimal_transfer(), PROGRAM_ID_INDEX, 0);
    bytes.push(0);
    assert_eq!(
        sanitize(&bytes).unwrap_err(),
        SanitizeError::TrailingBytes { extra: 1 }
    );
}

/// A valid transaction: distinct keys, a consistent header, program ids in the readonly
/// unsigned range, random signatures (sanitizing does not verify them).
fn valid_transaction() -> impl Strategy<Value = Transaction> {
    (
        1usize..=4,
        0usize..=3,
        1usize..=4,
        0usize..=8,
        any::<[u8; 32]>(),
    )
        .prop_flat_map(
            |(required, readonly_signed, readonly_unsigned, writable_unsigned, blockhash)| {
                let readonly_signed = readonly_signed.min(required - 1);
                let keys = required + writable_unsigned + readonly_unsigned;
                let programs = (keys - readonly_unsigned)..keys;
                let instruction = (
                    programs,
                    proptest::collection::vec(0..keys, 0..8),
                    proptest::collection::vec(any::<u8>(), 0..40),
                );
                (
                    proptest::collection::btree_set(any::<[u8; 32]>(), keys),
                    proptest::collection::vec(any::<[u8; 64]>(), required),
                    proptest::collection::vec(instruction, 0..4),
                    Just((required, readonly_signed, readonly_unsigned, blockhash)),
                )
            },
        )
        .prop_perturb(
            |(
                keys,
                signatures,
                instructions,
                (required, readonly_signed, readonly_unsigned, blockhash),
            ),
             mut rng| {
                let mut account_keys: Vec<Pubkey> =
                    keys.into_iter().map(Pubkey::new_from_array).collect();
                // Sets come sorted; shuffle so ranges are not accidentally ordered.
                for i in (1..account_keys.len()).rev() {
                    let j = rng.random_range(0..=i);
                    account_keys.swap(i, j);
                }
                let narrow = |n: usize| u8::try_from(n).unwrap();
                Transaction {
                    signatures: signatures.into_iter().map(Signature).collect(),
                    message: Message {
                        address_table_lookups: None,
                        header: MessageHeader {
                            num_required_signatures: narrow(required),
                            num_readonly_signed_accounts: narrow(readonly_signed),
                            num_readonly_unsigned_accounts: narrow(readonly_unsigned),
                        },
                        account_keys,
                        recent_blockhash: Hash::new_from_array(blockhash),
                        instructions: instructions
                            .into_iter()
                            .map(|(program, accounts, data)| CompiledInstruction {
                                program_id_index: narrow(program),
                                accounts: accounts.into_iter().map(narrow).collect(),
                                data,
                            })
                            .collect(),
                    },
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1300)) {
        let parsed = Transaction::from_bytes(&bytes);
        if let Ok(tx) = SanitizedTransaction::try_from_bytes(&bytes) {
            prop_assert_eq!(tx.transaction().to_bytes(), bytes);
            prop_assert_eq!(Some(tx.transaction()), parsed.as_ref().ok());
        }
    }

    #[test]
    fn valid_transactions_round_trip(tx in valid_transaction()) {
        let bytes = tx.to_bytes();
        prop_assert!(bytes.len() <= PACKET_DATA_BYTES_MAX);
        let parsed = SanitizedTransaction::try_from_bytes(&bytes).unwrap();
        prop_assert_eq!(parsed.transaction(), &tx);
        prop_assert_eq!(parsed.transaction().to_bytes(), bytes);
        let built = SanitizedTransaction::try_new(tx.clone()).unwrap();
        prop_assert_eq!(built.message_hash(), parsed.message_hash());
        prop_assert_eq!(built.message_bytes(), parsed.message_bytes());
        prop_assert_eq!(*parsed.message_hash(), tx.message.hash());
    }

    #[test]
    fn lock_sets_partition_the_keys(tx in valid_transaction()) {
        let tx = SanitizedTransaction::try_new(tx).unwrap();
        let writable: Vec<&Pubkey> = tx.writable_keys().collect();
        let readonly: Vec<&Pubkey> = tx.readonly_keys().collect();
        prop_assert_eq!(writable.len() + readonly.len(), tx.account_keys().len());
        for (index, key) in tx.account_keys().iter().enumerate() {
            let is_writable = tx.is_writable(index);
            // Declared writable, unless reserved (never the payer).
            let demoted =
                index > 0 && braid_runtime::sanitized::RESERVED_ACCOUNT_KEYS.contains(key);
            prop_assert_eq!(is_writable, tx.message().is_writable(index) && !demoted);
            prop_assert_eq!(writable.contains(&key), is_writable);
            prop_assert_eq!(readonly.contains(&key), !is_writable);
        }
        prop_assert!(tx.is_writable(0));
        prop_assert!(!tx.is_writable(tx.account_keys().len()));
    }

    #[test]
    fn corrupted_transactions_never_panic(
        tx in valid_transaction(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let original = tx.to_bytes();
        let cut = cut.index(original.len());
        prop_assert!(SanitizedTransaction::try_from_bytes(&original[..cut]).is_err());
        let mut bytes = original;
        for (at, value) in flips {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        if let Ok(parsed) = SanitizedTransaction::try_from_bytes(&bytes) {
            prop_assert_eq!(parsed.transaction().to_bytes(), bytes);
        }
    }
}
