//! Solana's own client library (solders) produced `solana-wire.json`; every fact in it must
//! hold here: decoding, every field, signatures (single and batched), re-encoding byte for
//! byte, keypair files and program-derived addresses.

// Tests compute offsets and sizes of small, known values; an overflow would be a bug in
// the test and panics in the debug builds tests run in.
#![allow(clippy::arithmetic_side_effects)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_runtime::instruction::{AccountMeta, Instruction};
use braid_runtime::keypair::Keypair;
use braid_runtime::message::hash_raw_message;
use braid_runtime::pda::{create_program_address, find_program_address};
use braid_runtime::sanitized::SanitizedTransaction;
use braid_runtime::sigverify::{
    verify_batch, verify_batch_par, verify_signature, verify_transaction,
};
use braid_runtime::{Hash, Message, Pubkey, Signature, Transaction, TransactionError};
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/solana-wire.json"
);

fn vectors() -> Value {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("{VECTORS}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("missing {field}"))
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn pubkey(text: &str) -> Pubkey {
    text.parse().unwrap()
}

#[test]
fn every_transaction_decodes_to_the_recorded_fields_and_re_encodes() {
    let vectors = vectors();
    let blockhash: Hash = str_of(&vectors, "blockhash").parse().unwrap();
    let transactions = vectors["transactions"].as_array().unwrap();
    assert!(transactions.len() >= 6);
    for vector in transactions {
        let name = str_of(vector, "name");
        let bytes = BASE64.decode(str_of(vector, "base64")).unwrap();
        let tx =
            SanitizedTransaction::try_from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let parsed = Transaction::from_bytes(&bytes).unwrap();
        assert_eq!(&parsed, tx.transaction(), "{name}");
        assert_eq!(tx.transaction().to_bytes(), bytes, "{name}: re-encoding");
        assert_eq!(tx.message().recent_blockhash, blockhash, "{name}");

        if let Some(len) = vector["len"].as_u64() {
            assert_eq!(bytes.len() as u64, len, "{name}");
        }
        if let Some(message_b64) = vector["message_base64"].as_str() {
            // solders recorded the message as compiled, before signing set the blockhash:
            // the same bytes with an all-zero blockhash.
            let unsigned = BASE64.decode(message_b64).unwrap();
            let mut message = tx.message().clone();
            message.recent_blockhash = Hash::default();
            assert_eq!(message.serialize(), unsigned, "{name}");
            let signed_message = &bytes[1 + 64 * tx.num_signatures()..];
            assert_eq!(tx.message_bytes(), signed_message, "{name}");
            assert_eq!(tx.message().serialize(), signed_message, "{name}");
            assert_eq!(
                *tx.message_hash(),
                hash_raw_message(signed_message),
                "{name}"
            );
            assert_eq!(tx.message().hash(), *tx.message_hash(), "{name}");
        }
        if let Some(signatures) = vector["signatures"].as_array() {
            let expected: Vec<Signature> = signatures
                .iter()
                .map(|s| s.as_str().unwrap().parse().unwrap())
                .collect();
            assert_eq!(tx.signatures(), &expected[..], "{name}");
            assert_eq!(*tx.signature(), expected[0], "{name}");
        }
        if let Some(header) = vector["header"].as_array() {
            let header: Vec<u64> = header.iter().map(|h| h.as_u64().unwrap()).collect();
            let h = tx.message().header;
            assert_eq!(
                header,
                [
                    u64::from(h.num_required_signatures),
                    u64::from(h.num_readonly_signed_accounts),
                    u64::from(h.num_readonly_unsigned_accounts)
                ],
                "{name}"
            );
        }
        if let Some(keys) = vector["account_keys"].as_array() {
            let keys: Vec<Pubkey> = keys.iter().map(|k| pubkey(k.as_str().unwrap())).collect();
            assert_eq!(tx.account_keys(), &keys[..], "{name}");
            assert_eq!(*tx.fee_payer(), keys[0], "{name}");
        }
        if let Some(instructions) = vector["instructions"].as_array() {
            assert_eq!(
                instructions.len(),
                tx.message().instructions.len(),
                "{name}"
            );
            for (expected, actual) in instructions.iter().zip(&tx.message().instructions) {
                assert_eq!(
                    expected["program_id_index"].as_u64().unwrap(),
                    u64::from(actual.program_id_index)
                );
                let accounts: Vec<u8> = expected["accounts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| u8::try_from(a.as_u64().unwrap()).unwrap())
                    .collect();
                assert_eq!(actual.accounts, accounts, "{name}");
                assert_eq!(actual.data, hex(str_of(expected, "data_hex")), "{name}");
            }
        }
        // The header's ranges: writable then readonly, together all keys exactly once.
        let writable: Vec<&Pubkey> = tx.writable_keys().collect();
        let readonly: Vec<&Pubkey> = tx.readonly_keys().collect();
        assert_eq!(writable.len() + readonly.len(), tx.account_keys().len());
        for (index, key) in tx.account_keys().iter().enumerate() {
            assert_eq!(writable.contains(&key), tx.is_writable(index), "{name}");
        }
    }
}

#[test]
fn signatures_verify_as_recorded_single_and_batched() {
    let vectors = vectors();
    let mut sanitized = Vec::new();
    let mut expected = Vec::new();
    for vector in vectors["transactions"].as_array().unwrap() {
        let bytes = BASE64.decode(str_of(vector, "base64")).unwrap();
        let tx = SanitizedTransaction::try_from_bytes(&bytes).unwrap();
        let verifies: Vec<bool> = match &vector["verifies"] {
            Value::Array(list) => list.iter().map(|v| v.as_bool().unwrap()).collect(),
            Value::Bool(all) => vec![*all; tx.num_signatures()],
            other => panic!("unexpected verifies {other}"),
        };
        for ((signature, key), verifies) in
            tx.signatures().iter().zip(tx.account_keys()).zip(&verifies)
        {
            assert_eq!(
                verify_signature(key, tx.message_bytes(), signature),
                *verifies,
                "{}",
                str_of(vector, "name")
            );
        }
        let ok = verifies.iter().all(|v| *v);
        if str_of(vector, "name") == "bad_signature" {
            assert!(!ok, "bad_signature must be recorded as failing");
        }
        let single = verify_transaction(&tx);
        assert_eq!(single.is_ok(), ok, "{}", str_of(vector, "name"));
        expected.push(if ok {
            Ok(())
        } else {
            Err(TransactionError::SignatureFailure)
        });
        sanitized.push(tx);
    }
    assert_eq!(verify_batch(&sanitized), expected);
    assert_eq!(verify_batch_par(&sanitized), expected);
    // The good ones alone take the batch's fast path; a bad one among them is isolated.
    let good: Vec<_> = sanitized
        .iter()
        .zip(&expected)
        .filter(|(_, e)| e.is_ok())
        .map(|(t, _)| t.clone())
        .collect();
    assert!(verify_batch(&good).iter().all(Result::is_ok));
}

#[test]
fn keypair_files_parse_to_their_pubkey_and_re_serialize_identically() {
    for vector in vectors()["keypairs"].as_array().unwrap() {
        let json = serde_json::to_string(&vector["keypair_json"]).unwrap();
        let keypair = Keypair::from_json_str(&json).unwrap();
        assert_eq!(keypair.pubkey(), pubkey(str_of(vector, "pubkey")));
        assert_eq!(keypair.to_json_string(), json);
        let seed: [u8; 32] = hex(str_of(vector, "seed_hex")).try_into().unwrap();
        assert_eq!(Keypair::from_seed(&seed).pubkey(), keypair.pubkey());
    }
}

#[test]
fn every_pda_matches_address_and_bump() {
    for vector in vectors()["pdas"].as_array().unwrap() {
        let seeds: Vec<Vec<u8>> = vector["seeds_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| hex(s.as_str().unwrap()))
            .collect();
        let seeds: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
        let program = pubkey(str_of(vector, "program_id"));
        let (address, bump) = find_program_address(&seeds, &program);
        assert_eq!(address, pubkey(str_of(vector, "address")));
        assert_eq!(u64::from(bump), vector["bump"].as_u64().unwrap());
        let mut with_bump = seeds.clone();
        let bump_seed = [bump];
        with_bump.push(&bump_seed);
        assert_eq!(create_program_address(&with_bump, &program), Ok(address));
    }
}

/// Rebuilding the recorded transactions from instructions with our `Message::new` and
/// signing with the recorded keypairs reproduces Solana's bytes exactly: key ordering,
/// header and signatures.
#[test]
fn compiling_and_signing_reproduces_solanas_bytes() {
    let vectors = vectors();
    let blockhash: Hash = str_of(&vectors, "blockhash").parse().unwrap();
    let keypairs: Vec<Keypair> = vectors["keypairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| Keypair::from_seed(&hex(str_of(k, "seed_hex")).try_into().unwrap()))
        .collect();
    for vector in vectors["transactions"].as_array().unwrap() {
        let bytes = BASE64.decode(str_of(vector, "base64")).unwrap();
        let original = Transaction::from_bytes(&bytes).unwrap();
        let message = &original.message;
        // Decompile into instructions with their privileges, ordered as written.
        let instructions: Vec<Instruction> = message
            .instructions
            .iter()
            .map(|ix| Instruction {
                program_id: message.account_keys[usize::from(ix.program_id_index)],
                accounts: ix
                    .accounts
                    .iter()
                    .map(|&i| AccountMeta {
                        pubkey: message.account_keys[usize::from(i)],
                        is_signer: message.is_signer(usize::from(i)),
                        is_writable: message.is_writable(usize::from(i)),
                    })
                    .collect(),
                data: ix.data.clone(),
            })
            .collect();
        let rebuilt =
            Message::new_with_blockhash(&instructions, Some(&message.account_keys[0]), &blockhash);
        assert_eq!(&rebuilt, message, "{}", str_of(vector, "name"));
        let signers: Vec<&Keypair> = message.account_keys
            [..usize::from(message.header.num_required_signatures)]
            .iter()
            .map(|key| {
                keypairs
                    .iter()
                    .find(|k| k.pubkey() == *key)
                    .expect("vector signer is a recorded keypair")
            })
            .collect();
        let signed = Transaction::new_signed_with_payer(
            &instructions,
            Some(&message.account_keys[0]),
            &signers,
            blockhash,
        );
        if str_of(vector, "name") != "bad_signature" {
            assert_eq!(signed.to_bytes(), bytes, "{}", str_of(vector, "name"));
        }
    }
}
