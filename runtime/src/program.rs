//! The native program interface and the registry of programs a runtime knows.
//!
//! A program is a crate that implements [`Program`]. It sees the world only through the
//! [`InvokeContext`] it is handed: the accounts its instruction lists (with their signer and
//! writable flags), a compute meter, a log, the clock, and cross-program calls. The runtime
//! never depends on any program; whoever builds a runtime registers the ones it wants.

use std::collections::HashMap;
use std::sync::Arc;

use braid_primitives::KeyHasherBuilder;

use crate::balances::TokenAmount;
use crate::compute_budget::ComputeBudgetProgram;
use crate::invoke_context::InvokeContext;
use crate::{Account, InstructionError, NATIVE_LOADER_ID, Pubkey};

/// A native program.
pub trait Program: Send + Sync {
    /// The program's address; instructions name it as their program id.
    fn id(&self) -> Pubkey;

    /// A short human-readable name, used in logs.
    fn name(&self) -> &'static str;

    /// Processes one instruction. Changes made through `ctx` are kept only if this returns
    /// `Ok` and every runtime rule holds afterwards.
    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError>;

    /// Names this program's error `code` (carried by [`InstructionError::Custom`]), so a
    /// client can say what failed without parsing text. `None` for a code it does not
    /// define; programs without custom errors keep the default.
    fn describe_error(&self, code: u32) -> Option<ProgramErrorName> {
        let _ = code;
        None
    }

    /// Reads `account`, which this program owns, as a token account: what RPC reports as a
    /// token balance. `None` for accounts that are not token accounts (the default).
    fn token_balance(&self, account: &Account) -> Option<TokenAmount> {
        let _ = account;
        None
    }
}

/// What a program's custom error code means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramErrorName {
    /// The error's type and variant, e.g. `AmmError::SlippageExceeded`.
    pub variant: String,
    /// What it means, in words.
    pub message: String,
}

impl ProgramErrorName {
    /// The name of a typed error: its `Debug` form (the variant) and its `Display` text.
    pub fn of<E: std::fmt::Debug + std::fmt::Display>(type_name: &str, error: &E) -> Self {
        Self {
            variant: format!("{type_name}::{error:?}"),
            message: error.to_string(),
        }
    }
}

/// The account that holds a native program at genesis: executable, owned by the native
/// loader, its data the program's name.
pub fn program_account(program: &dyn Program) -> Account {
    Account {
        lamports: 1,
        owner: NATIVE_LOADER_ID,
        executable: true,
        data: program.name().as_bytes().to_vec(),
    }
}

/// The programs a runtime can execute, by id. Only [`ProgramRegistry::ids`] iterates it,
/// and it sorts, so hash order can never leak into results. Keyed with the fast key hasher
/// rather than SipHash: execution looks up every account key of every transaction here
/// ([`crate::executor::Executor::is_writable`]).
#[derive(Clone)]
pub struct ProgramRegistry {
    programs: HashMap<Pubkey, Arc<dyn Program>, KeyHasherBuilder>,
}

impl Default for ProgramRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgramRegistry {
    /// A registry holding only the Compute Budget program, which every runtime has.
    pub fn new() -> Self {
        let mut registry = Self {
            programs: HashMap::with_hasher(KeyHasherBuilder::new()),
        };
        registry.add(ComputeBudgetProgram);
        registry
    }

    /// Registers `program` under its id, replacing any program with that id.
    pub fn add<P: Program + 'static>(&mut self, program: P) {
        self.add_arc(Arc::new(program));
    }

    /// Registers a shared program.
    pub fn add_arc(&mut self, program: Arc<dyn Program>) {
        self.programs.insert(program.id(), program);
    }

    /// The program with `id`, if registered.
    pub fn get(&self, id: &Pubkey) -> Option<&Arc<dyn Program>> {
        self.programs.get(id)
    }

    /// Whether a program with `id` is registered.
    pub fn contains(&self, id: &Pubkey) -> bool {
        self.programs.contains_key(id)
    }

    /// What `program`'s error `code` means, if the program is registered and defines it.
    pub fn describe_error(&self, program: &Pubkey, code: u32) -> Option<ProgramErrorName> {
        self.programs.get(program)?.describe_error(code)
    }

    /// Every registered program's id and genesis account ([`program_account`]), in
    /// ascending id order.
    pub fn program_accounts(&self) -> Vec<(Pubkey, Account)> {
        self.ids()
            .into_iter()
            .filter_map(|id| Some((id, program_account(self.programs.get(&id)?.as_ref()))))
            .collect()
    }

    /// The registered ids in ascending order (for genesis: one executable account each).
    pub fn ids(&self) -> Vec<Pubkey> {
        let mut ids: Vec<Pubkey> = self.programs.keys().copied().collect();
        ids.sort();
        ids
    }
}
