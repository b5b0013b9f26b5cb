//! Creating accounts from other programs, through cross-program calls to this one.

use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::{InstructionError, Pubkey};

use crate::instruction::{allocate, assign, create_account, transfer};

/// Creates the program-derived account at `position` for `owner`, with at least `lamports`
/// and `space` bytes, signing for it with `seeds` (which must derive its address for the
/// calling program); `payer` (a signer of the transaction) pays.
///
/// An address that holds nothing gets one `CreateAccount`. One that someone has already sent
/// lamports to is refused by `CreateAccount`, and since anyone can send lamports anywhere,
/// that would let a stranger block the address for good; so it is topped up to `lamports`,
/// allocated and assigned instead (what Anchor's `init` does).
pub fn create_program_account(
    ctx: &mut InvokeContext<'_>,
    payer: &Pubkey,
    position: usize,
    lamports: u64,
    space: u64,
    owner: &Pubkey,
    seeds: &[&[u8]],
) -> Result<(), InstructionError> {
    let address = *ctx.key(position)?;
    let held = ctx.account(position)?.lamports;
    if held == 0 {
        return ctx.invoke_signed(
            &create_account(payer, &address, lamports, space, owner),
            &[seeds],
        );
    }
    if let Some(missing) = lamports.checked_sub(held).filter(|missing| *missing > 0) {
        ctx.invoke(&transfer(payer, &address, missing))?;
    }
    ctx.invoke_signed(&allocate(&address, space), &[seeds])?;
    ctx.invoke_signed(&assign(&address, owner), &[seeds])
}
