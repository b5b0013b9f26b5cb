//! Any instruction data and account list for any built-in program, executed in the
//! harness: nothing panics, and lamports are conserved (what the accounts hold after, plus
//! the fee, is what they held before).

#![no_main]

use std::sync::OnceLock;

use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::{AccountMeta, Instruction, Message, Pubkey, Transaction};
use libfuzzer_sys::fuzz_target;

/// Keys an instruction may name: the payer, a few others, and every program.
fn keys(payer: &Pubkey) -> Vec<Pubkey> {
    let mut keys = vec![*payer];
    keys.extend((1..=6u8).map(|i| Pubkey::new_from_array([i; 32])));
    keys.extend(braid_builtins::registry().ids());
    keys
}

fn program_ids() -> &'static Vec<Pubkey> {
    static IDS: OnceLock<Vec<Pubkey>> = OnceLock::new();
    IDS.get_or_init(|| braid_builtins::registry().ids())
}

fuzz_target!(|data: &[u8]| {
    // Layout: program selector, account count, per account (key selector, flags), data.
    let Some((&program, rest)) = data.split_first() else {
        return;
    };
    let Some((&count, rest)) = rest.split_first() else {
        return;
    };
    let count = usize::from(count % 12);
    if rest.len() < count * 2 {
        return;
    }
    let (metas, ix_data) = rest.split_at(count * 2);
    let mut harness = Harness::new();
    harness.add_programs(&braid_builtins::registry());
    harness.set_sigverify(false);
    let payer = Keypair::from_seed(&[9; 32]);
    harness.airdrop(&payer.pubkey(), 1_000_000_000).expect("airdrop");
    let keys = keys(&payer.pubkey());
    for key in &keys[1..7] {
        harness.airdrop(key, 1_000_000).expect("airdrop");
    }
    let program_id = program_ids()[usize::from(program) % program_ids().len()];
    let accounts: Vec<AccountMeta> = metas
        .chunks_exact(2)
        .map(|pair| {
            let key = keys[usize::from(pair[0]) % keys.len()];
            // Signatures are not verified here, so any account may claim to sign.
            let signer = pair[1] & 1 != 0;
            AccountMeta {
                pubkey: key,
                is_signer: signer,
                is_writable: pair[1] & 2 != 0,
            }
        })
        .collect();
    let instruction = Instruction {
        program_id,
        accounts,
        data: ix_data.to_vec(),
    };
    let message = Message::new_with_blockhash(
        &[instruction],
        Some(&payer.pubkey()),
        &harness.latest_blockhash(),
    );
    let mut tx = Transaction::new_unsigned(message);
    tx.signatures = vec![Default::default(); usize::from(tx.message.header.num_required_signatures)];
    let total = |harness: &Harness| -> u128 {
        harness
            .accounts()
            .iter()
            .map(|(_, account)| u128::from(account.lamports))
            .sum()
    };
    let before = total(&harness);
    let fee = match harness.send_transaction(tx) {
        Ok(meta) => meta.fee,
        Err(failed) => failed.meta.fee,
    };
    assert_eq!(total(&harness) + u128::from(fee), before, "lamports appeared or vanished");
});
