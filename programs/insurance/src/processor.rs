//! The program: decode accounts, check who they are, apply one [`logic`](crate::logic)
//! transition, move exactly the tokens it returns through the token program, write back.
//!
//! Identity checks, because the runtime only guarantees that the program owns what it writes:
//! every account this program reads must be owned by it and carry the right kind tag;
//! positions and policies must name the pool they are used with and the signer; the vault,
//! pool authority and oracle feed must be the keys stored in the pool. Token accounts given
//! by users (sources and destinations) are checked by the token program itself (mint match,
//! owner's signature).

use braid_program_oracle::{PriceFeed, load_price, load_price_unchecked_age};
use braid_program_token::{Mint, TokenAccount};
use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::pda::find_program_address;
use braid_runtime::program::{Program, ProgramErrorName};
use braid_runtime::{InstructionError, Pubkey};

use crate::error::InsuranceError;
use crate::instruction::{AUTHORITY_SEED, InsuranceInstruction, POLICY_SEED, POSITION_SEED};
use crate::logic::{self, PolicyRequest, PoolParams};
use crate::state::{
    AccountKind, POLICY_BYTES, POOL_BYTES, POSITION_BYTES, Policy, PolicyStatus, Pool, Position,
};
use crate::{ID, INSURANCE_INSTRUCTION_UNITS, POLICY_LAMPORTS, POSITION_LAMPORTS};

/// Account positions of `InitializePool`.
pub mod initialize_pool {
    /// The pool account to initialize (writable, signer, owned by this program, zeroed).
    pub const POOL: usize = 0;
    /// The mint of the pool's capital.
    pub const MINT: usize = 1;
    /// The pool's vault: a token account of `MINT` owned by the pool authority.
    pub const VAULT: usize = 2;
    /// The oracle feed of the covered asset.
    pub const FEED: usize = 3;
}

/// Account positions of `OpenPosition`.
pub mod open_position {
    /// The underwriter (writable, signer: pays for the position account).
    pub const OWNER: usize = 0;
    /// The position account to create, at the owner's position address (writable).
    pub const POSITION: usize = 1;
    /// The pool.
    pub const POOL: usize = 2;
    /// The System program, listed for the `create_account` call; not read.
    pub const SYSTEM_PROGRAM: usize = 3;
}

/// Account positions of `Deposit`.
pub mod deposit {
    /// The pool (writable).
    pub const POOL: usize = 0;
    /// The owner's position in the pool (writable).
    pub const POSITION: usize = 1;
    /// The pool's vault (writable).
    pub const VAULT: usize = 2;
    /// The owner's token account the capital comes from (writable).
    pub const SOURCE: usize = 3;
    /// The underwriter (signer).
    pub const OWNER: usize = 4;
    /// SPL Token, listed for the transfer call; not read.
    pub const TOKEN_PROGRAM: usize = 5;
}

/// Account positions of `Withdraw`.
pub mod withdraw {
    /// The pool (writable).
    pub const POOL: usize = 0;
    /// The owner's position in the pool (writable).
    pub const POSITION: usize = 1;
    /// The pool's vault (writable).
    pub const VAULT: usize = 2;
    /// The token account that receives the capital (writable).
    pub const DESTINATION: usize = 3;
    /// The underwriter (signer).
    pub const OWNER: usize = 4;
    /// The pool's program-derived authority, which signs the transfer out of the vault.
    pub const AUTHORITY: usize = 5;
    /// SPL Token, listed for the transfer call; not read.
    pub const TOKEN_PROGRAM: usize = 6;
}

/// Account positions of `BuyPolicy`.
pub mod buy_policy {
    /// The pool (writable).
    pub const POOL: usize = 0;
    /// The policy account to create, at the holder's policy address (writable).
    pub const POLICY: usize = 1;
    /// The pool's vault (writable).
    pub const VAULT: usize = 2;
    /// The holder's token account the premium comes from (writable).
    pub const SOURCE: usize = 3;
    /// The buyer (writable, signer: pays for the policy account).
    pub const HOLDER: usize = 4;
    /// The pool's oracle feed.
    pub const FEED: usize = 5;
    /// SPL Token, listed for the transfer call; not read.
    pub const TOKEN_PROGRAM: usize = 6;
    /// The System program, listed for the `create_account` call; not read.
    pub const SYSTEM_PROGRAM: usize = 7;
}

/// Account positions of `Claim`.
pub mod claim {
    /// The pool (writable).
    pub const POOL: usize = 0;
    /// The policy claimed (writable).
    pub const POLICY: usize = 1;
    /// The pool's vault (writable).
    pub const VAULT: usize = 2;
    /// The token account that receives the payout (writable).
    pub const DESTINATION: usize = 3;
    /// The policy's holder (signer).
    pub const HOLDER: usize = 4;
    /// The pool's program-derived authority, which signs the transfer out of the vault.
    pub const AUTHORITY: usize = 5;
    /// The pool's oracle feed.
    pub const FEED: usize = 6;
    /// SPL Token, listed for the transfer call; not read.
    pub const TOKEN_PROGRAM: usize = 7;
}

/// Account positions of `Expire`.
pub mod expire {
    /// The pool (writable).
    pub const POOL: usize = 0;
    /// The policy to expire (writable).
    pub const POLICY: usize = 1;
}

/// The insurance program.
pub struct InsuranceProgram;

impl Program for InsuranceProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "insurance"
    }

    fn describe_error(&self, code: u32) -> Option<ProgramErrorName> {
        crate::error::InsuranceError::try_from(code)
            .ok()
            .map(|error| ProgramErrorName::of("InsuranceError", &error))
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSURANCE_INSTRUCTION_UNITS)?;
        let instruction =
            borsh::from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        match instruction {
            InsuranceInstruction::InitializePool { params } => initialize_pool(ctx, &params),
            InsuranceInstruction::OpenPosition => open_position(ctx),
            InsuranceInstruction::Deposit { amount } => deposit(ctx, amount),
            InsuranceInstruction::Withdraw { shares } => withdraw(ctx, shares),
            InsuranceInstruction::BuyPolicy { request } => buy_policy(ctx, &request),
            InsuranceInstruction::Claim => claim(ctx),
            InsuranceInstruction::Expire => expire(ctx),
        }
    }
}

fn require_signer(ctx: &InvokeContext<'_>, position: usize) -> Result<Pubkey, InstructionError> {
    if !ctx.is_signer(position)? {
        return Err(InstructionError::MissingRequiredSignature);
    }
    Ok(*ctx.key(position)?)
}

fn owned_data<'c>(
    ctx: &'c InvokeContext<'_>,
    position: usize,
) -> Result<&'c [u8], InstructionError> {
    let account = ctx.account(position)?;
    if account.owner != ID {
        return Err(InstructionError::IncorrectProgramId);
    }
    Ok(&account.data)
}

fn load_pool(ctx: &InvokeContext<'_>, position: usize) -> Result<Pool, InstructionError> {
    Pool::unpack(owned_data(ctx, position)?)
}

/// The position at `position`, which must belong to the pool at `pool_position` and `owner`.
fn load_position(
    ctx: &InvokeContext<'_>,
    position: usize,
    pool_position: usize,
    owner: &Pubkey,
) -> Result<Position, InstructionError> {
    let state = Position::unpack(owned_data(ctx, position)?)?;
    if state.pool != *ctx.key(pool_position)? {
        return Err(InsuranceError::WrongPool.into());
    }
    if state.owner != *owner {
        return Err(InsuranceError::NotOwner.into());
    }
    Ok(state)
}

fn load_policy(
    ctx: &InvokeContext<'_>,
    position: usize,
    pool_position: usize,
) -> Result<Policy, InstructionError> {
    let state = Policy::unpack(owned_data(ctx, position)?)?;
    if state.pool != *ctx.key(pool_position)? {
        return Err(InsuranceError::WrongPool.into());
    }
    Ok(state)
}

fn require_key(
    ctx: &InvokeContext<'_>,
    position: usize,
    expected: &Pubkey,
    error: InsuranceError,
) -> Result<(), InstructionError> {
    if ctx.key(position)? != expected {
        return Err(error.into());
    }
    Ok(())
}

fn store<T>(
    ctx: &mut InvokeContext<'_>,
    position: usize,
    state: &T,
    pack: fn(&T, &mut [u8]) -> Result<(), InstructionError>,
) -> Result<(), InstructionError> {
    pack(state, &mut ctx.account_mut(position)?.data)
}

/// A token transfer out of the vault, signed by the pool's authority.
fn pay_from_vault(
    ctx: &mut InvokeContext<'_>,
    pool_key: &Pubkey,
    pool: &Pool,
    destination: &Pubkey,
    amount: u64,
) -> Result<(), InstructionError> {
    let transfer = braid_program_token::instruction::transfer(
        &pool.vault,
        destination,
        &pool.authority,
        amount,
    );
    ctx.invoke_signed(
        &transfer,
        &[&[AUTHORITY_SEED, pool_key.as_ref(), &[pool.authority_bump]]],
    )
}

fn initialize_pool(
    ctx: &mut InvokeContext<'_>,
    params: &PoolParams,
) -> Result<(), InstructionError> {
    use initialize_pool::*;
    // The pool account's own signature: whoever created it chooses its oracle and
    // parameters, not whoever reaches an uninitialized pool account first.
    if !ctx.is_signer(POOL)? {
        return Err(InstructionError::MissingRequiredSignature);
    }
    let data = owned_data(ctx, POOL)?;
    if data.len() != POOL_BYTES {
        return Err(InstructionError::InvalidAccountData);
    }
    if data.first() != Some(&(AccountKind::Uninitialized as u8)) {
        return Err(InsuranceError::AlreadyInitialized.into());
    }
    params.validate()?;

    let mint_account = ctx.account(MINT)?;
    if mint_account.owner != braid_program_token::ID {
        return Err(InstructionError::IncorrectProgramId);
    }
    Mint::unpack(&mint_account.data)?;
    let mint = *ctx.key(MINT)?;

    let pool_key = *ctx.key(POOL)?;
    let (authority, authority_bump) =
        find_program_address(&[AUTHORITY_SEED, pool_key.as_ref()], &ID);
    let vault_account = ctx.account(VAULT)?;
    if vault_account.owner != braid_program_token::ID {
        return Err(InstructionError::IncorrectProgramId);
    }
    let vault = TokenAccount::unpack(&vault_account.data)?;
    // A delegate or close authority could move or close the vault behind the pool's back.
    if vault.mint != mint
        || vault.owner != authority
        || vault.delegate.is_some()
        || vault.close_authority.is_some()
        || vault.is_frozen()
    {
        return Err(InsuranceError::WrongVault.into());
    }

    let feed_account = ctx.account(FEED)?;
    let feed_ok = feed_account.owner == braid_program_oracle::ID
        && PriceFeed::unpack(&feed_account.data).is_ok_and(|feed| feed.is_initialized);
    if !feed_ok {
        return Err(InsuranceError::WrongOracle.into());
    }

    let pool = Pool {
        kind: AccountKind::Pool,
        mint,
        vault: *ctx.key(VAULT)?,
        authority,
        oracle_feed: *ctx.key(FEED)?,
        authority_bump,
        premium_rate_bps: params.premium_rate_bps,
        collateral_ratio_bps: params.collateral_ratio_bps,
        max_oracle_age_slots: params.max_oracle_age_slots,
        claim_grace_slots: params.claim_grace_slots,
        total_capital: 0,
        locked_capital: 0,
        total_shares: 0,
        active_coverage: 0,
    };
    store(ctx, POOL, &pool, Pool::pack)
}

fn open_position(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    use open_position::*;
    let owner = require_signer(ctx, OWNER)?;
    load_pool(ctx, POOL)?;
    let pool_key = *ctx.key(POOL)?;
    let (expected, bump) =
        find_program_address(&[POSITION_SEED, pool_key.as_ref(), owner.as_ref()], &ID);
    require_key(
        ctx,
        POSITION,
        &expected,
        InsuranceError::WrongPositionAddress,
    )?;
    braid_program_system::cpi::create_program_account(
        ctx,
        &owner,
        POSITION,
        POSITION_LAMPORTS,
        POSITION_BYTES as u64,
        &ID,
        &[POSITION_SEED, pool_key.as_ref(), owner.as_ref(), &[bump]],
    )?;
    let position = Position {
        kind: AccountKind::Position,
        pool: pool_key,
        owner,
        shares: 0,
    };
    store(ctx, POSITION, &position, Position::pack)
}

fn deposit(ctx: &mut InvokeContext<'_>, amount: u64) -> Result<(), InstructionError> {
    use deposit::*;
    let owner = require_signer(ctx, OWNER)?;
    let mut pool = load_pool(ctx, POOL)?;
    let mut position = load_position(ctx, POSITION, POOL, &owner)?;
    require_key(ctx, VAULT, &pool.vault, InsuranceError::WrongVault)?;
    let shares = logic::deposit(&mut pool, &mut position, amount)?;
    let source = *ctx.key(SOURCE)?;
    ctx.invoke(&braid_program_token::instruction::transfer(
        &source,
        &pool.vault,
        &owner,
        amount,
    ))?;
    ctx.log(format_args!("deposit {amount} for {shares} shares"));
    store(ctx, POOL, &pool, Pool::pack)?;
    store(ctx, POSITION, &position, Position::pack)
}

fn withdraw(ctx: &mut InvokeContext<'_>, shares: u64) -> Result<(), InstructionError> {
    use withdraw::*;
    let owner = require_signer(ctx, OWNER)?;
    let mut pool = load_pool(ctx, POOL)?;
    let mut position = load_position(ctx, POSITION, POOL, &owner)?;
    require_key(ctx, VAULT, &pool.vault, InsuranceError::WrongVault)?;
    require_key(
        ctx,
        AUTHORITY,
        &pool.authority,
        InsuranceError::WrongAuthority,
    )?;
    let amount = logic::withdraw(&mut pool, &mut position, shares)?;
    // Shares of a depleted pool are worth nothing; burning them moves no tokens.
    if amount > 0 {
        let (pool_key, destination) = (*ctx.key(POOL)?, *ctx.key(DESTINATION)?);
        pay_from_vault(ctx, &pool_key, &pool, &destination, amount)?;
    }
    ctx.log(format_args!("withdraw {shares} shares for {amount}"));
    store(ctx, POOL, &pool, Pool::pack)?;
    store(ctx, POSITION, &position, Position::pack)
}

fn buy_policy(
    ctx: &mut InvokeContext<'_>,
    request: &PolicyRequest,
) -> Result<(), InstructionError> {
    use buy_policy::*;
    let holder = require_signer(ctx, HOLDER)?;
    let mut pool = load_pool(ctx, POOL)?;
    let pool_key = *ctx.key(POOL)?;
    let id_bytes = request.policy_id.to_le_bytes();
    let (expected, bump) = find_program_address(
        &[POLICY_SEED, pool_key.as_ref(), holder.as_ref(), &id_bytes],
        &ID,
    );
    require_key(ctx, POLICY, &expected, InsuranceError::WrongPolicyAddress)?;
    require_key(ctx, VAULT, &pool.vault, InsuranceError::WrongVault)?;
    require_key(ctx, FEED, &pool.oracle_feed, InsuranceError::WrongOracle)?;
    let now = ctx.clock().slot;
    let price = load_price(ctx.account(FEED)?, now, pool.max_oracle_age_slots)
        .map_err(InsuranceError::from)?;
    let quote = logic::buy_policy(&mut pool, request, price.price, now)?;

    let source = *ctx.key(SOURCE)?;
    ctx.invoke(&braid_program_token::instruction::transfer(
        &source,
        &pool.vault,
        &holder,
        quote.premium,
    ))?;
    braid_program_system::cpi::create_program_account(
        ctx,
        &holder,
        POLICY,
        POLICY_LAMPORTS,
        POLICY_BYTES as u64,
        &ID,
        &[
            POLICY_SEED,
            pool_key.as_ref(),
            holder.as_ref(),
            &id_bytes,
            &[bump],
        ],
    )?;
    let policy = Policy {
        kind: AccountKind::Policy,
        pool: pool_key,
        holder,
        policy_id: request.policy_id,
        coverage: request.coverage,
        locked: quote.locked,
        premium: quote.premium,
        strike_price: request.strike_price,
        start_slot: now,
        expiry_slot: request.expiry_slot,
        status: PolicyStatus::Active,
    };
    ctx.log(format_args!(
        "policy {} covers {} for premium {}, locking {}",
        request.policy_id, request.coverage, quote.premium, quote.locked
    ));
    store(ctx, POOL, &pool, Pool::pack)?;
    store(ctx, POLICY, &policy, Policy::pack)
}

fn claim(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    use claim::*;
    let holder = require_signer(ctx, HOLDER)?;
    let mut pool = load_pool(ctx, POOL)?;
    let mut policy = load_policy(ctx, POLICY, POOL)?;
    if policy.holder != holder {
        return Err(InsuranceError::NotOwner.into());
    }
    require_key(ctx, VAULT, &pool.vault, InsuranceError::WrongVault)?;
    require_key(
        ctx,
        AUTHORITY,
        &pool.authority,
        InsuranceError::WrongAuthority,
    )?;
    require_key(ctx, FEED, &pool.oracle_feed, InsuranceError::WrongOracle)?;
    // Age is judged by the claim rule (fresh at min(now, expiry)), not by the oracle's.
    let price = load_price_unchecked_age(ctx.account(FEED)?).map_err(InsuranceError::from)?;
    let now = ctx.clock().slot;
    let payout = logic::claim(&mut pool, &mut policy, &price, now)?;
    let (pool_key, destination) = (*ctx.key(POOL)?, *ctx.key(DESTINATION)?);
    pay_from_vault(ctx, &pool_key, &pool, &destination, payout)?;
    ctx.log(format_args!(
        "policy {} paid {payout} at price {}",
        policy.policy_id, price.price
    ));
    store(ctx, POOL, &pool, Pool::pack)?;
    store(ctx, POLICY, &policy, Policy::pack)
}

fn expire(ctx: &mut InvokeContext<'_>) -> Result<(), InstructionError> {
    use expire::*;
    let mut pool = load_pool(ctx, POOL)?;
    let mut policy = load_policy(ctx, POLICY, POOL)?;
    let released = logic::expire(&mut pool, &mut policy, ctx.clock().slot)?;
    ctx.log(format_args!(
        "policy {} expired, released {released}",
        policy.policy_id
    ));
    store(ctx, POOL, &pool, Pool::pack)?;
    store(ctx, POLICY, &policy, Policy::pack)
}

#[cfg(test)]
mod tests {
    //! Each client builder lists every account at the position the processor names for it.

    use braid_runtime::{Instruction, SYSTEM_PROGRAM_ID};

    use super::*;
    use crate::instruction::{self, PoolKeys, policy_address, pool_authority, position_address};

    /// `instruction` has exactly the accounts of `expected`, each at its position.
    fn assert_positions(instruction: &Instruction, expected: &[(usize, Pubkey)]) {
        assert_eq!(instruction.accounts.len(), expected.len());
        for &(position, pubkey) in expected {
            assert_eq!(
                instruction.accounts[position].pubkey, pubkey,
                "position {position}"
            );
        }
    }

    const KEYS: PoolKeys = PoolKeys {
        pool: Pubkey::new_from_array([1; 32]),
        vault: Pubkey::new_from_array([2; 32]),
        oracle_feed: Pubkey::new_from_array([3; 32]),
    };
    const MINT: Pubkey = Pubkey::new_from_array([4; 32]);
    const USER: Pubkey = Pubkey::new_from_array([5; 32]);
    const TOKENS: Pubkey = Pubkey::new_from_array([6; 32]);
    const POLICY_ID: u64 = 7;

    #[test]
    fn initialize_pool_positions() {
        let ix = instruction::initialize_pool(&KEYS, &MINT, PoolParams::default());
        assert_positions(
            &ix,
            &[
                (initialize_pool::POOL, KEYS.pool),
                (initialize_pool::MINT, MINT),
                (initialize_pool::VAULT, KEYS.vault),
                (initialize_pool::FEED, KEYS.oracle_feed),
            ],
        );
    }

    #[test]
    fn open_position_positions() {
        let ix = instruction::open_position(&KEYS.pool, &USER);
        assert_positions(
            &ix,
            &[
                (open_position::OWNER, USER),
                (
                    open_position::POSITION,
                    position_address(&KEYS.pool, &USER).0,
                ),
                (open_position::POOL, KEYS.pool),
                (open_position::SYSTEM_PROGRAM, SYSTEM_PROGRAM_ID),
            ],
        );
    }

    #[test]
    fn deposit_positions() {
        let ix = instruction::deposit(&KEYS, &TOKENS, &USER, 1);
        assert_positions(
            &ix,
            &[
                (deposit::POOL, KEYS.pool),
                (deposit::POSITION, position_address(&KEYS.pool, &USER).0),
                (deposit::VAULT, KEYS.vault),
                (deposit::SOURCE, TOKENS),
                (deposit::OWNER, USER),
                (deposit::TOKEN_PROGRAM, braid_program_token::ID),
            ],
        );
    }

    #[test]
    fn withdraw_positions() {
        let ix = instruction::withdraw(&KEYS, &TOKENS, &USER, 1);
        assert_positions(
            &ix,
            &[
                (withdraw::POOL, KEYS.pool),
                (withdraw::POSITION, position_address(&KEYS.pool, &USER).0),
                (withdraw::VAULT, KEYS.vault),
                (withdraw::DESTINATION, TOKENS),
                (withdraw::OWNER, USER),
                (withdraw::AUTHORITY, pool_authority(&KEYS.pool).0),
                (withdraw::TOKEN_PROGRAM, braid_program_token::ID),
            ],
        );
    }

    #[test]
    fn buy_policy_positions() {
        let request = PolicyRequest {
            policy_id: POLICY_ID,
            ..PolicyRequest::default()
        };
        let ix = instruction::buy_policy(&KEYS, &TOKENS, &USER, request);
        assert_positions(
            &ix,
            &[
                (buy_policy::POOL, KEYS.pool),
                (
                    buy_policy::POLICY,
                    policy_address(&KEYS.pool, &USER, POLICY_ID).0,
                ),
                (buy_policy::VAULT, KEYS.vault),
                (buy_policy::SOURCE, TOKENS),
                (buy_policy::HOLDER, USER),
                (buy_policy::FEED, KEYS.oracle_feed),
                (buy_policy::TOKEN_PROGRAM, braid_program_token::ID),
                (buy_policy::SYSTEM_PROGRAM, SYSTEM_PROGRAM_ID),
            ],
        );
    }

    #[test]
    fn claim_positions() {
        let ix = instruction::claim(&KEYS, &USER, POLICY_ID, &TOKENS);
        assert_positions(
            &ix,
            &[
                (claim::POOL, KEYS.pool),
                (
                    claim::POLICY,
                    policy_address(&KEYS.pool, &USER, POLICY_ID).0,
                ),
                (claim::VAULT, KEYS.vault),
                (claim::DESTINATION, TOKENS),
                (claim::HOLDER, USER),
                (claim::AUTHORITY, pool_authority(&KEYS.pool).0),
                (claim::FEED, KEYS.oracle_feed),
                (claim::TOKEN_PROGRAM, braid_program_token::ID),
            ],
        );
    }

    #[test]
    fn expire_positions() {
        let policy = policy_address(&KEYS.pool, &USER, POLICY_ID).0;
        let ix = instruction::expire(&KEYS.pool, &policy);
        assert_positions(&ix, &[(expire::POOL, KEYS.pool), (expire::POLICY, policy)]);
    }
}
