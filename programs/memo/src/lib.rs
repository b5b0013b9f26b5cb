//! Solana's Memo program, at both of Solana's ids, so that wallets and dApps that attach a
//! memo to a transaction work unchanged.
//!
//! The instruction data is the memo: it must be UTF-8. Version 2 ([`ID`]) also requires
//! every account the instruction names to have signed the transaction, logs `Signed by
//! <address>` for each and then `Memo (len N): "…"`; version 1 ([`ID_V1`]) checks no
//! signatures and logs the memo as it is. Neither changes anything.

use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::program::Program;
use braid_runtime::{AccountMeta, Instruction, InstructionError, Pubkey};

/// The Memo program's id (version 2, the one clients use today).
pub const ID: Pubkey = Pubkey::from_str_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
/// The first Memo program's id.
pub const ID_V1: Pubkey = Pubkey::from_str_const("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo");
/// Compute units a memo costs, plus one per byte.
pub const MEMO_BASE_UNITS: u64 = 100;

/// Builds a memo instruction (version 2) signed by `signers`.
pub fn memo(text: &str, signers: &[&Pubkey]) -> Instruction {
    Instruction {
        program_id: ID,
        accounts: signers
            .iter()
            .map(|signer| AccountMeta::new_readonly(**signer, true))
            .collect(),
        data: text.as_bytes().to_vec(),
    }
}

/// The Memo program at one of its two ids.
pub struct MemoProgram {
    id: Pubkey,
    name: &'static str,
    check_signers: bool,
}

impl MemoProgram {
    /// Version 2: every named account must have signed.
    pub const V2: Self = Self {
        id: ID,
        name: "memo",
        check_signers: true,
    };
    /// Version 1: the memo only.
    pub const V1: Self = Self {
        id: ID_V1,
        name: "memo-v1",
        check_signers: false,
    };
}

impl Program for MemoProgram {
    fn id(&self) -> Pubkey {
        self.id
    }

    fn name(&self) -> &'static str {
        self.name
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(MEMO_BASE_UNITS.saturating_add(data.len() as u64))?;
        let mut signers = Vec::new();
        if self.check_signers {
            let mut position = 0;
            while let Ok(key) = ctx.key(position) {
                let key = *key;
                if !ctx.is_signer(position)? {
                    return Err(InstructionError::MissingRequiredSignature);
                }
                signers.push(key);
                position = position.saturating_add(1);
            }
        }
        let text = std::str::from_utf8(data).map_err(|error| {
            ctx.log(format_args!(
                "Invalid UTF-8, from byte {}",
                error.valid_up_to()
            ));
            InstructionError::InvalidInstructionData
        })?;
        if self.check_signers {
            for signer in signers {
                ctx.log(format_args!("Signed by {signer}"));
            }
            ctx.log(format_args!("Memo (len {}): {:?}", text.len(), text));
        } else {
            ctx.log(format_args!("{text}"));
        }
        Ok(())
    }
}
