//! Test doubles shared by the runtime's integration tests: a probe program that breaks
//! whichever runtime rule its instruction asks for.

#![allow(dead_code)] // each test file uses a different part
#![allow(clippy::arithmetic_side_effects)] // small known values in test doubles

use borsh::{BorshDeserialize, BorshSerialize};
use braid_runtime::harness::Harness;
use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::keypair::Keypair;
use braid_runtime::program::Program;
use braid_runtime::{
    Account, AccountMeta, Instruction, InstructionError, Pubkey, Transaction, TransactionError,
};

/// The first probe program's id.
pub const PROBE_ID: Pubkey = Pubkey::new_from_array([0xA1; 32]);
/// A second probe, to test calls between two programs.
pub const PROBE2_ID: Pubkey = Pubkey::new_from_array([0xA2; 32]);
/// Compute units a probe instruction costs.
pub const PROBE_UNITS: u64 = 100;

/// What the probe does; positions are instruction-account positions.
#[derive(Debug, Clone, BorshSerialize, BorshDeserialize)]
pub enum Probe {
    /// Nothing.
    Noop,
    /// Moves lamports with no ownership check of its own.
    Move { from: u8, to: u8, lamports: u64 },
    /// Adds lamports out of nowhere.
    Mint { at: u8, lamports: u64 },
    /// Removes lamports into nowhere.
    Destroy { at: u8, lamports: u64 },
    /// Writes `byte` at data offset 0 (growing the data to one byte if empty).
    Write { at: u8, byte: u8 },
    /// Sets the owner.
    SetOwner { at: u8, owner: [u8; 32] },
    /// Flips the executable flag.
    FlipExecutable { at: u8 },
    /// Resizes data.
    Resize { at: u8, len: u64 },
    /// Consumes compute units.
    Burn { units: u64 },
    /// Calls the program at position `program` with `accounts` (position, signer,
    /// writable), the nested probe `then`, signing with each of `seeds` (one seed each).
    Call {
        program: u8,
        accounts: Vec<(u8, bool, bool)>,
        then: Box<Probe>,
        seeds: Vec<Vec<u8>>,
    },
    /// Calls `program_id` with no accounts, whether or not the caller has it.
    CallId { program_id: [u8; 32] },
    /// Calls itself `depth` more times.
    Recurse { depth: u8 },
    /// Fails with a custom error.
    Fail { code: u32 },
    /// Panics after writing `byte` at data offset 0 of the account at `at`.
    Panic { at: u8, byte: u8 },
}

/// A probe program with a chosen id.
pub struct ProbeProgram(pub Pubkey);

impl Program for ProbeProgram {
    fn id(&self) -> Pubkey {
        self.0
    }

    fn name(&self) -> &'static str {
        "probe"
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(PROBE_UNITS)?;
        let probe =
            Probe::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        run(ctx, probe)
    }
}

fn run(ctx: &mut InvokeContext<'_>, probe: Probe) -> Result<(), InstructionError> {
    let pos = usize::from;
    match probe {
        Probe::Noop => Ok(()),
        Probe::Move { from, to, lamports } => ctx.transfer_lamports(pos(from), pos(to), lamports),
        Probe::Mint { at, lamports } => {
            let account = ctx.account_mut(pos(at))?;
            account.lamports = account
                .lamports
                .checked_add(lamports)
                .ok_or(InstructionError::ArithmeticOverflow)?;
            Ok(())
        }
        Probe::Destroy { at, lamports } => {
            let account = ctx.account_mut(pos(at))?;
            account.lamports = account
                .lamports
                .checked_sub(lamports)
                .ok_or(InstructionError::InsufficientFunds)?;
            Ok(())
        }
        Probe::Write { at, byte } => {
            let account = ctx.account_mut(pos(at))?;
            if account.data.is_empty() {
                account.data.push(byte);
            } else {
                account.data[0] = byte;
            }
            Ok(())
        }
        Probe::SetOwner { at, owner } => {
            ctx.account_mut(pos(at))?.owner = Pubkey::new_from_array(owner);
            Ok(())
        }
        Probe::FlipExecutable { at } => {
            let account = ctx.account_mut(pos(at))?;
            account.executable = !account.executable;
            Ok(())
        }
        Probe::Resize { at, len } => {
            ctx.account_mut(pos(at))?
                .data
                .resize(usize::try_from(len).unwrap(), 0);
            Ok(())
        }
        Probe::Burn { units } => ctx.consume(units),
        Probe::Call {
            program,
            accounts,
            then,
            seeds,
        } => {
            let program_id = *ctx.key(pos(program))?;
            let mut metas = Vec::new();
            for (at, is_signer, is_writable) in accounts {
                metas.push(AccountMeta {
                    pubkey: *ctx.key(pos(at))?,
                    is_signer,
                    is_writable,
                });
            }
            let ix = Instruction::new_with_borsh(program_id, &*then, metas);
            let seed_slices: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
            let signer_seeds: Vec<&[&[u8]]> =
                seed_slices.iter().map(std::slice::from_ref).collect();
            ctx.invoke_signed(&ix, &signer_seeds)
        }
        Probe::CallId { program_id } => ctx.invoke(&Instruction::new_with_borsh(
            Pubkey::new_from_array(program_id),
            &Probe::Noop,
            vec![],
        )),
        Probe::Recurse { depth } => {
            if depth == 0 {
                return Ok(());
            }
            let metas = (0..ctx.num_accounts())
                .map(|at| {
                    Ok(AccountMeta {
                        pubkey: *ctx.key(at)?,
                        is_signer: ctx.is_signer(at)?,
                        is_writable: ctx.is_writable(at)?,
                    })
                })
                .collect::<Result<Vec<_>, InstructionError>>()?;
            let ix = Instruction::new_with_borsh(
                *ctx.program_id(),
                &Probe::Recurse { depth: depth - 1 },
                metas,
            );
            ctx.invoke(&ix)
        }
        Probe::Fail { code } => Err(InstructionError::Custom(code)),
        Probe::Panic { at, byte } => {
            run(ctx, Probe::Write { at, byte })?;
            panic!("probe told to panic");
        }
    }
}

/// A probe instruction over `accounts`.
pub fn probe_ix(program: Pubkey, probe: &Probe, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction::new_with_borsh(program, probe, accounts)
}

/// A harness with the System program and both probes.
pub fn harness() -> Harness {
    let mut harness = Harness::new();
    harness
        .add_program(braid_program_system::SystemProgram)
        .add_program(ProbeProgram(PROBE_ID))
        .add_program(ProbeProgram(PROBE2_ID));
    harness
}

/// A funded keypair.
pub fn funded(harness: &mut Harness, lamports: u64) -> Keypair {
    let keypair = Keypair::new();
    harness.airdrop(&keypair.pubkey(), lamports).unwrap();
    keypair
}

/// An account at a fresh address owned by `owner`.
pub fn account_owned_by(
    harness: &mut Harness,
    owner: &Pubkey,
    lamports: u64,
    data: &[u8],
) -> Pubkey {
    let key = Keypair::new().pubkey();
    harness.set_account(key, Account::with_data(lamports, data.to_vec(), owner));
    key
}

/// Signs `ixs` with `payer` (and `others`) over the latest blockhash.
pub fn sign(
    harness: &Harness,
    payer: &Keypair,
    others: &[&Keypair],
    ixs: &[Instruction],
) -> Transaction {
    let mut signers = vec![payer];
    signers.extend_from_slice(others);
    Transaction::new_signed_with_payer(
        ixs,
        Some(&payer.pubkey()),
        &signers,
        harness.latest_blockhash(),
    )
}

/// Sends and returns just the error.
pub fn send(harness: &mut Harness, tx: Transaction) -> Result<(), TransactionError> {
    harness
        .send_transaction(tx)
        .map(|_| ())
        .map_err(|failed| failed.err)
}

/// Signs over the latest blockhash and sends.
pub fn send_signed(
    harness: &mut Harness,
    payer: &Keypair,
    others: &[&Keypair],
    ixs: &[Instruction],
) -> Result<(), TransactionError> {
    let tx = sign(harness, payer, others, ixs);
    send(harness, tx)
}
