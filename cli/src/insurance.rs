//! `braid insurance`: parametric cover pools built from `braid_program_insurance`'s
//! builders. The keypair pays, underwrites, buys and claims.

use braid_program_insurance::{
    self as insurance, POOL_BYTES, Policy, PolicyRequest, Pool, PoolKeys, PoolParams, Position,
};
use braid_runtime::Pubkey;
use braid_runtime::keypair::Keypair;
use clap::Subcommand;
use serde_json::json;

use crate::chain::{self, create_state_account, create_token_account};
use crate::{Context, Output, extend};

/// Policy ids `buy` tries when none is given, before asking for `--policy-id`.
const POLICY_ID_SEARCH_LIMIT: u64 = 256;

/// `braid insurance` subcommands.
#[derive(Subcommand)]
pub enum InsuranceCommand {
    /// Create a pool covering the price of `--feed`, with capital in `--mint`.
    InitPool {
        /// Mint of the capital, premiums and payouts.
        #[arg(long)]
        mint: Pubkey,
        /// Oracle feed whose price triggers claims.
        #[arg(long)]
        feed: Pubkey,
        /// Premium as a share of coverage, in basis points.
        #[arg(long, default_value_t = 250)]
        premium_bps: u64,
        /// Capital locked per unit of coverage, in basis points (at least 10000).
        #[arg(long, default_value_t = 15_000)]
        collateral_bps: u64,
        /// Oldest oracle price accepted while a policy runs, in slots.
        #[arg(long, default_value_t = 100)]
        max_oracle_age: u64,
        /// Slots after expiry during which a claim may use a price set before expiry.
        #[arg(long, default_value_t = 20)]
        claim_grace: u64,
    },
    /// Deposit capital for shares (opens the keypair's position on first use).
    Underwrite {
        /// The pool.
        #[arg(long)]
        pool: Pubkey,
        /// The keypair's token account paying (the pool's mint).
        #[arg(long)]
        source: Pubkey,
        /// Tokens to deposit.
        #[arg(long)]
        amount: u64,
    },
    /// Buy a policy paying `--coverage` if the price falls to `--strike` by expiry.
    Buy {
        /// The pool.
        #[arg(long)]
        pool: Pubkey,
        /// The keypair's token account paying the premium.
        #[arg(long)]
        source: Pubkey,
        /// Paid on a claim, in token base units.
        #[arg(long)]
        coverage: u64,
        /// Pays when the price is at or below this, in the feed's units.
        #[arg(long, allow_hyphen_values = true)]
        strike: i64,
        /// Last slot of cover.
        #[arg(
            long,
            required_unless_present = "expires_in",
            conflicts_with = "expires_in"
        )]
        expiry_slot: Option<u64>,
        /// Cover for this many slots from now (instead of `--expiry-slot`).
        #[arg(long)]
        expires_in: Option<u64>,
        /// The keypair's id for the policy [default: the lowest unused id].
        #[arg(long)]
        policy_id: Option<u64>,
    },
    /// Claim a policy's coverage (the keypair is the holder).
    Claim {
        /// The pool.
        #[arg(long)]
        pool: Pubkey,
        /// The policy's id.
        #[arg(long)]
        policy_id: u64,
        /// Token account receiving the coverage.
        #[arg(long)]
        destination: Pubkey,
    },
}

/// Runs one `braid insurance` command.
pub fn run(context: &Context, command: InsuranceCommand) -> Result<Output, String> {
    let payer = context.signer()?;
    let me = payer.pubkey();
    match command {
        InsuranceCommand::InitPool {
            mint,
            feed,
            premium_bps,
            collateral_bps,
            max_oracle_age,
            claim_grace,
        } => {
            let params = PoolParams {
                premium_rate_bps: premium_bps,
                collateral_ratio_bps: collateral_bps,
                max_oracle_age_slots: max_oracle_age,
                claim_grace_slots: claim_grace,
            };
            params
                .validate()
                .map_err(|e| format!("init-pool: {e} (see --help for the ranges)"))?;
            chain::mint(context, &mint)?;
            let (pool, vault) = (Keypair::new(), Keypair::new());
            let (authority, _) = insurance::pool_authority(&pool.pubkey());
            let keys = PoolKeys {
                pool: pool.pubkey(),
                vault: vault.pubkey(),
                oracle_feed: feed,
            };
            let mut instructions = Vec::new();
            instructions.extend(create_token_account(&me, &vault, &mint, &authority));
            instructions.push(create_state_account(&me, &pool, POOL_BYTES, &insurance::ID));
            instructions.push(insurance::initialize_pool(&keys, &mint, params));
            let mut output =
                context.send_checked("init-pool", &instructions, &payer, &[&pool, &vault])?;
            output.text = format!(
                "pool: {}\nvault: {}\n{}",
                keys.pool, keys.vault, output.text
            );
            extend(
                &mut output.json,
                json!({"pool": keys.pool.to_string(), "vault": keys.vault.to_string(), "mint": mint.to_string(), "feed": feed.to_string()}),
            );
            Ok(output)
        }
        InsuranceCommand::Underwrite {
            pool,
            source,
            amount,
        } => {
            let (keys, _) = pool_keys(context, &pool)?;
            let (position, _) = insurance::position_address(&pool, &me);
            let mut instructions = Vec::new();
            if !chain::exists(context, &position)? {
                instructions.push(insurance::open_position(&pool, &me));
            }
            instructions.push(insurance::deposit(&keys, &source, &me, amount));
            let mut output = context.send_checked("underwrite", &instructions, &payer, &[])?;
            let shares = Position::unpack(&chain::fetch(context, &position, "position")?.data)
                .map_err(|e| format!("position {position}: {e}"))?
                .shares;
            output.text = format!("position: {position} ({shares} shares)\n{}", output.text);
            extend(
                &mut output.json,
                json!({"pool": pool.to_string(), "position": position.to_string(), "amount": amount, "shares": shares}),
            );
            Ok(output)
        }
        InsuranceCommand::Buy {
            pool,
            source,
            coverage,
            strike,
            expiry_slot,
            expires_in,
            policy_id,
        } => {
            let (keys, _) = pool_keys(context, &pool)?;
            let expiry_slot = match (expiry_slot, expires_in) {
                (Some(slot), _) => slot,
                (None, Some(slots)) => {
                    let now = context.client().get_slot().map_err(|e| e.to_string())?;
                    now.checked_add(slots)
                        .ok_or("buy: --expires-in is too large")?
                }
                (None, None) => return Err("buy: give --expiry-slot or --expires-in".into()),
            };
            let policy_id = match policy_id {
                Some(id) => id,
                None => unused_policy_id(context, &pool, &me)?,
            };
            let request = PolicyRequest {
                policy_id,
                coverage,
                strike_price: strike,
                expiry_slot,
            };
            let instruction = insurance::buy_policy(&keys, &source, &me, request);
            let mut output = context.send_checked("buy", &[instruction], &payer, &[])?;
            let (address, _) = insurance::policy_address(&pool, &me, policy_id);
            let policy = Policy::unpack(&chain::fetch(context, &address, "policy")?.data)
                .map_err(|e| format!("policy {address}: {e}"))?;
            output.text = format!(
                "policy: {address} (id {policy_id}, premium {}, expires at slot {expiry_slot})\n{}",
                policy.premium, output.text
            );
            extend(
                &mut output.json,
                json!({
                    "pool": pool.to_string(),
                    "policy": address.to_string(),
                    "policy_id": policy_id,
                    "coverage": coverage,
                    "strike": strike,
                    "expiry_slot": expiry_slot,
                    "premium": policy.premium,
                }),
            );
            Ok(output)
        }
        InsuranceCommand::Claim {
            pool,
            policy_id,
            destination,
        } => {
            let (keys, _) = pool_keys(context, &pool)?;
            let before = chain::balance(context, &destination)?;
            let instruction = insurance::claim(&keys, &me, policy_id, &destination);
            let mut output = context.send_checked("claim", &[instruction], &payer, &[])?;
            let paid = chain::balance(context, &destination)?.saturating_sub(before);
            output.text = format!("paid: {paid}\n{}", output.text);
            extend(
                &mut output.json,
                json!({"pool": pool.to_string(), "policy_id": policy_id, "paid": paid}),
            );
            Ok(output)
        }
    }
}

/// The pool at `pool`, as the builders want its keys, and its state.
fn pool_keys(context: &Context, pool: &Pubkey) -> Result<(PoolKeys, Pool), String> {
    let account = chain::fetch(context, pool, "pool")?;
    let state = (account.owner == insurance::ID)
        .then(|| Pool::unpack(&account.data).ok())
        .flatten()
        .ok_or_else(|| format!("{pool} is not an initialized insurance pool"))?;
    let keys = PoolKeys {
        pool: *pool,
        vault: state.vault,
        oracle_feed: state.oracle_feed,
    };
    Ok((keys, state))
}

/// The lowest policy id `holder` has not used in `pool`.
fn unused_policy_id(context: &Context, pool: &Pubkey, holder: &Pubkey) -> Result<u64, String> {
    for id in 0..POLICY_ID_SEARCH_LIMIT {
        let (address, _) = insurance::policy_address(pool, holder, id);
        if !chain::exists(context, &address)? {
            return Ok(id);
        }
    }
    Err(format!(
        "buy: policy ids 0 to {} are taken: pass --policy-id",
        POLICY_ID_SEARCH_LIMIT.saturating_sub(1)
    ))
}
