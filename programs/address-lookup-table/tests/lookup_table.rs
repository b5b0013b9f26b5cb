//! The Address Lookup Table program and v0 transactions in the harness: each instruction's
//! exact effect and errors, when appended addresses become usable, the deactivation
//! cooldown, and the sanitize and resolution errors of v0 messages.
#![allow(clippy::arithmetic_side_effects)] // small known amounts

use braid_program_address_lookup_table::{
    AddressLookupTableProgram, close_lookup_table, create_lookup_table, deactivate_lookup_table,
    extend_lookup_table, freeze_lookup_table,
};
use braid_program_system::instruction as system;
use braid_runtime::address_lookup_table::{
    DEACTIVATION_COOLDOWN_SLOTS, ID, LOOKUP_TABLE_META_BYTES, LookupTable,
};
use braid_runtime::harness::Harness;
use braid_runtime::keypair::Keypair;
use braid_runtime::{
    Instruction, InstructionError, Message, Pubkey, SanitizeError, Transaction, TransactionError,
};

const SLOT: u64 = 1_000;

struct Env {
    harness: Harness,
    payer: Keypair,
    authority: Keypair,
}

impl Env {
    fn new() -> Self {
        let mut harness = Harness::new();
        harness
            .add_program(braid_program_system::SystemProgram)
            .add_program(AddressLookupTableProgram);
        harness.warp_to_slot(SLOT);
        let payer = Keypair::from_seed(&[1; 32]);
        harness.airdrop(&payer.pubkey(), 100_000_000_000).unwrap();
        Self {
            harness,
            payer,
            authority: Keypair::from_seed(&[2; 32]),
        }
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
        // Each send is a new message, even when it repeats one that failed.
        self.harness.expire_blockhash();
        self.harness
            .send_transaction(tx)
            .map(|_| ())
            .map_err(|failed| failed.err)
    }

    /// A v0 transaction of `instructions` loading from `tables`.
    fn send_v0(
        &mut self,
        instructions: &[Instruction],
        tables: &[(Pubkey, Vec<Pubkey>)],
    ) -> Result<(), TransactionError> {
        let message = Message::new_v0(
            instructions,
            &self.payer.pubkey(),
            &self.harness.latest_blockhash(),
            tables,
        );
        let mut tx = Transaction::new_unsigned(message);
        tx.sign(&[&self.payer], self.harness.latest_blockhash());
        // Each v0 send is a new message: a new blockhash keeps identical ones apart.
        self.harness.expire_blockhash();
        self.harness
            .send_transaction(tx)
            .map(|_| ())
            .map_err(|failed| failed.err)
    }

    /// Signs `message` as the payer and sends it as it is.
    fn send_message(&mut self, message: Message) -> Result<(), TransactionError> {
        let mut tx = Transaction::new_unsigned(message);
        tx.sign(&[&self.payer], self.harness.latest_blockhash());
        self.harness
            .send_transaction(tx)
            .map(|_| ())
            .map_err(|failed| failed.err)
    }

    fn create(&mut self, recent_slot: u64) -> Pubkey {
        let (create, table) =
            create_lookup_table(&self.authority.pubkey(), &self.payer.pubkey(), recent_slot);
        self.send(&[create], &[]).unwrap();
        table
    }

    fn extend(&mut self, table: &Pubkey, addresses: Vec<Pubkey>) -> Result<(), TransactionError> {
        let payer = self.payer.pubkey();
        let authority = Keypair::from_seed(&[2; 32]);
        self.send(
            &[extend_lookup_table(
                table,
                &authority.pubkey(),
                Some(&payer),
                addresses,
            )],
            &[&authority],
        )
    }

    fn table(
        &self,
        table: &Pubkey,
    ) -> (
        braid_runtime::address_lookup_table::LookupTableMeta,
        Vec<Pubkey>,
    ) {
        let account = self.harness.get_account(table).expect("the table exists");
        assert_eq!(account.owner, ID);
        let parsed = LookupTable::parse(&account.data).unwrap();
        let addresses = (0..parsed.len())
            .map(|i| parsed.address(i).unwrap())
            .collect();
        (parsed.meta, addresses)
    }
}

fn key(n: u8) -> Pubkey {
    Pubkey::new_from_array([n; 32])
}

fn failed(index: u8, error: InstructionError) -> Result<(), TransactionError> {
    Err(TransactionError::InstructionError(index, error))
}

#[test]
fn create_makes_an_empty_rent_exempt_table_at_the_derived_address() {
    let mut env = Env::new();
    let table = env.create(SLOT - 1);
    let account = env.harness.get_account(&table).unwrap();
    assert_eq!(account.lamports, 1_280_640, "rent-exempt for 56 bytes");
    assert_eq!(account.data.len(), LOOKUP_TABLE_META_BYTES);
    let (meta, addresses) = env.table(&table);
    assert_eq!(meta.authority, Some(env.authority.pubkey()));
    assert_eq!(meta.deactivation_slot, u64::MAX);
    assert!(addresses.is_empty());
    // Solana's bytes: state 1, then the deactivation slot.
    assert_eq!(
        account.data[..12],
        [1, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255]
    );

    // The same address again, a stale slot, a future slot, a wrong bump.
    let (again, _) = create_lookup_table(&env.authority.pubkey(), &env.payer.pubkey(), SLOT - 1);
    assert_eq!(
        env.send(&[again], &[]),
        failed(0, InstructionError::AccountAlreadyInitialized)
    );
    let (stale, _) = create_lookup_table(
        &env.authority.pubkey(),
        &env.payer.pubkey(),
        SLOT - DEACTIVATION_COOLDOWN_SLOTS - 1,
    );
    assert_eq!(
        env.send(&[stale], &[]),
        failed(0, InstructionError::InvalidInstructionData)
    );
    let (future, _) = create_lookup_table(&env.authority.pubkey(), &env.payer.pubkey(), SLOT + 1);
    assert_eq!(
        env.send(&[future], &[]),
        failed(0, InstructionError::InvalidInstructionData)
    );
    let (mut bad_bump, _) =
        create_lookup_table(&env.authority.pubkey(), &env.payer.pubkey(), SLOT - 2);
    let last = bad_bump.data.len() - 1;
    bad_bump.data[last] = bad_bump.data[last].wrapping_sub(1);
    assert_eq!(
        env.send(&[bad_bump], &[]),
        failed(0, InstructionError::InvalidArgument)
    );
}

#[test]
fn appended_addresses_are_usable_from_the_next_slot() {
    let mut env = Env::new();
    let table = env.create(SLOT);
    let (recipient, other) = (key(7), key(8));
    env.extend(&table, vec![recipient, other]).unwrap();
    let (meta, addresses) = env.table(&table);
    assert_eq!(addresses, vec![recipient, other]);
    assert_eq!(
        (meta.last_extended_slot, meta.last_extended_slot_start_index),
        (SLOT, 0)
    );
    assert_eq!(
        env.harness.get_balance(&table),
        braid_runtime::rent::minimum_balance(56 + 64)
    );
    let transfer = system::transfer(&env.payer.pubkey(), &recipient, 5_000_000);
    let tables = [(table, vec![recipient, other])];
    // Appended in this slot: not usable yet.
    assert_eq!(
        env.send_v0(std::slice::from_ref(&transfer), &tables),
        Err(TransactionError::InvalidAddressLookupTableIndex)
    );
    env.harness.warp_to_slot(SLOT + 1);
    let before = env.harness.get_balance(&env.payer.pubkey());
    env.send_v0(std::slice::from_ref(&transfer), &tables)
        .unwrap();
    assert_eq!(env.harness.get_balance(&recipient), 5_000_000);
    assert_eq!(
        env.harness.get_balance(&env.payer.pubkey()),
        before - 5_000_000 - 5_000
    );

    // A second extension in a later slot: the earlier addresses stay usable in that slot,
    // the new one waits.
    env.extend(&table, vec![key(9)]).unwrap();
    let (meta, _) = env.table(&table);
    assert_eq!(
        (meta.last_extended_slot, meta.last_extended_slot_start_index),
        (SLOT + 1, 2)
    );
    env.send_v0(std::slice::from_ref(&transfer), &tables)
        .unwrap();
    let to_new = system::transfer(&env.payer.pubkey(), &key(9), 1_000_000);
    let all = [(table, vec![recipient, other, key(9)])];
    assert_eq!(
        env.send_v0(std::slice::from_ref(&to_new), &all),
        Err(TransactionError::InvalidAddressLookupTableIndex)
    );
    env.harness.warp_to_slot(SLOT + 2);
    env.send_v0(&[to_new], &all).unwrap();
    assert_eq!(env.harness.get_balance(&key(9)), 1_000_000);
}

#[test]
fn only_the_authority_changes_a_table_and_a_frozen_one_never_changes() {
    let mut env = Env::new();
    let table = env.create(SLOT);
    let stranger = Keypair::from_seed(&[3; 32]);
    assert_eq!(
        env.send(
            &[extend_lookup_table(
                &table,
                &stranger.pubkey(),
                None,
                vec![key(1)]
            )],
            &[&stranger]
        ),
        failed(0, InstructionError::IncorrectAuthority)
    );
    let mut unsigned = extend_lookup_table(&table, &env.authority.pubkey(), None, vec![key(1)]);
    unsigned.accounts[1].is_signer = false;
    assert_eq!(
        env.send(&[unsigned], &[]),
        failed(0, InstructionError::MissingRequiredSignature)
    );
    assert_eq!(
        env.extend(&table, Vec::new()),
        failed(0, InstructionError::InvalidInstructionData)
    );
    let authority = Keypair::from_seed(&[2; 32]);
    // An empty table cannot be frozen.
    assert_eq!(
        env.send(
            &[freeze_lookup_table(&table, &authority.pubkey())],
            &[&authority]
        ),
        failed(0, InstructionError::InvalidInstructionData)
    );
    env.extend(&table, (10..30).map(key).collect()).unwrap();
    env.send(
        &[freeze_lookup_table(&table, &authority.pubkey())],
        &[&authority],
    )
    .unwrap();
    assert_eq!(env.table(&table).0.authority, None);
    assert_eq!(
        env.extend(&table, vec![key(1)]),
        failed(0, InstructionError::Immutable)
    );
    assert_eq!(
        env.send(
            &[deactivate_lookup_table(&table, &authority.pubkey())],
            &[&authority]
        ),
        failed(0, InstructionError::Immutable)
    );
}

#[test]
fn a_table_holds_at_most_256_addresses() {
    let mut env = Env::new();
    let table = env.create(SLOT);
    // 256 addresses take several transactions (a packet holds about 30).
    let mut added = 0u32;
    while added < 256 {
        let batch: Vec<Pubkey> = (added..(added + 25).min(256))
            .map(|n| {
                Pubkey::new_from_array([
                    (n % 256) as u8,
                    (n / 256) as u8 + 1,
                    0xAB,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                ])
            })
            .collect();
        added += batch.len() as u32;
        env.extend(&table, batch).unwrap();
    }
    assert_eq!(env.table(&table).1.len(), 256);
    assert_eq!(
        env.extend(&table, vec![key(1)]),
        failed(0, InstructionError::InvalidInstructionData)
    );
}

#[test]
fn a_deactivated_table_serves_lookups_through_its_cooldown_then_closes() {
    let mut env = Env::new();
    let table = env.create(SLOT);
    let recipient = key(7);
    env.extend(&table, vec![recipient]).unwrap();
    let authority = Keypair::from_seed(&[2; 32]);
    let close = close_lookup_table(&table, &authority.pubkey(), &key(50));
    assert_eq!(
        env.send(std::slice::from_ref(&close), &[&authority]),
        failed(0, InstructionError::InvalidArgument),
        "an active table does not close"
    );
    env.harness.warp_to_slot(SLOT + 1);
    env.send(
        &[deactivate_lookup_table(&table, &authority.pubkey())],
        &[&authority],
    )
    .unwrap();
    assert_eq!(env.table(&table).0.deactivation_slot, SLOT + 1);
    assert_eq!(
        env.send(
            &[deactivate_lookup_table(&table, &authority.pubkey())],
            &[&authority]
        ),
        failed(0, InstructionError::InvalidArgument)
    );
    assert_eq!(
        env.extend(&table, vec![key(2)]),
        failed(0, InstructionError::InvalidArgument)
    );
    let transfer = system::transfer(&env.payer.pubkey(), &recipient, 1_000);
    let tables = [(table, vec![recipient])];
    // Usable through the cooldown, and not closable.
    env.harness
        .warp_to_slot(SLOT + 1 + DEACTIVATION_COOLDOWN_SLOTS);
    env.send_v0(std::slice::from_ref(&transfer), &tables)
        .unwrap();
    assert_eq!(
        env.send(std::slice::from_ref(&close), &[&authority]),
        failed(0, InstructionError::InvalidArgument)
    );
    // Then gone for lookups, and closable.
    env.harness
        .warp_to_slot(SLOT + 2 + DEACTIVATION_COOLDOWN_SLOTS);
    assert_eq!(
        env.send_v0(&[transfer], &tables),
        Err(TransactionError::AddressLookupTableNotFound)
    );
    let held = env.harness.get_balance(&table);
    let to_itself = close_lookup_table(&table, &authority.pubkey(), &table);
    assert_eq!(
        env.send(&[to_itself], &[&authority]),
        failed(0, InstructionError::InvalidArgument)
    );
    env.send(&[close], &[&authority]).unwrap();
    assert_eq!(env.harness.get_account(&table), None);
    assert_eq!(env.harness.get_balance(&key(50)), held);
}

#[test]
fn v0_messages_are_sanitized_and_resolved_with_solanas_errors() {
    let mut env = Env::new();
    let table = env.create(SLOT);
    env.extend(&table, vec![key(7), env.payer.pubkey()])
        .unwrap();
    env.harness.warp_to_slot(SLOT + 1);
    let payer = env.payer.pubkey();
    // A loaded address that is also a static key is loaded twice.
    let mut message = Message::new_v0(
        &[system::transfer(&payer, &key(7), 1)],
        &payer,
        &env.harness.latest_blockhash(),
        &[(table, vec![key(7)])],
    );
    message.address_table_lookups.as_mut().unwrap()[0]
        .readonly_indexes
        .push(1);
    assert_eq!(
        env.send_message(message.clone()),
        Err(TransactionError::Sanitize(
            SanitizeError::AccountLoadedTwice(payer)
        ))
    );
    // An index the table does not hold; a table that does not exist; one of another owner.
    let cases = [
        (
            (table, vec![5u8]),
            TransactionError::InvalidAddressLookupTableIndex,
        ),
        (
            (key(99), vec![0]),
            TransactionError::AddressLookupTableNotFound,
        ),
        (
            (payer, vec![0]),
            TransactionError::InvalidAddressLookupTableOwner,
        ),
    ];
    for ((account_key, indexes), expected) in cases {
        let mut message = message.clone();
        message.address_table_lookups = Some(vec![braid_runtime::MessageAddressTableLookup {
            account_key,
            writable_indexes: indexes,
            readonly_indexes: Vec::new(),
        }]);
        assert_eq!(
            env.send_message(message),
            Err(expected.clone()),
            "{expected:?}"
        );
    }
    // An empty lookup, and a program id loaded from a table, are malformed.
    let mut empty = message.clone();
    empty.address_table_lookups.as_mut().unwrap()[0] = braid_runtime::MessageAddressTableLookup {
        account_key: table,
        ..Default::default()
    };
    assert_eq!(
        env.send_message(empty),
        Err(TransactionError::Sanitize(
            SanitizeError::EmptyAddressTableLookup(0)
        ))
    );
    let mut loaded_program = Message::new_v0(
        &[system::transfer(&payer, &key(7), 1)],
        &payer,
        &env.harness.latest_blockhash(),
        &[(table, vec![key(7)])],
    );
    let loaded_at = loaded_program.account_keys.len() as u8;
    loaded_program.instructions[0].program_id_index = loaded_at;
    assert_eq!(
        env.send_message(loaded_program),
        Err(TransactionError::Sanitize(SanitizeError::ProgramIdLoaded {
            instruction: 0
        }))
    );
}

#[test]
fn v0_wire_bytes_round_trip_and_other_versions_are_refused() {
    let payer = Keypair::from_seed(&[1; 32]);
    let message = Message::new_v0(
        &[system::transfer(&payer.pubkey(), &key(7), 1)],
        &payer.pubkey(),
        &braid_runtime::Hash::default(),
        &[(key(40), vec![key(7)])],
    );
    assert_eq!(
        message.account_keys,
        vec![payer.pubkey(), braid_runtime::SYSTEM_PROGRAM_ID]
    );
    let mut tx = Transaction::new_unsigned(message);
    tx.sign(&[&payer], braid_runtime::Hash::default());
    let wire = tx.to_bytes();
    assert_eq!(wire[65], 0x80, "the version byte follows the signature");
    assert_eq!(Transaction::from_bytes(&wire).unwrap(), tx);
    let mut v1 = wire.clone();
    v1[65] = 0x81;
    assert_eq!(
        Transaction::from_bytes(&v1),
        Err(SanitizeError::UnsupportedVersion(1))
    );
}
