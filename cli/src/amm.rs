//! `braid amm`: create a constant-product pool, swap, deposit and withdraw, all built from
//! `braid_program_amm`'s instruction builders. The keypair pays and signs for the user's
//! token accounts.

use borsh::BorshDeserialize;
use braid_program_amm::instruction as amm;
use braid_program_amm::{Fees, POOL_BYTES, Pool, PoolKeys, TradeDirection, pool_authority};
use braid_runtime::Pubkey;
use braid_runtime::keypair::Keypair;
use clap::Subcommand;
use serde_json::json;

use crate::chain::{self, create_mint, create_state_account, create_token_account};
use crate::{Context, Output, extend};

/// Decimals of a new pool's LP mint.
const LP_MINT_DECIMALS: u8 = 6;

/// `braid amm` subcommands. The user's token accounts are always given as flags: Braid has
/// no associated-token-account program to derive them from.
#[derive(Subcommand)]
pub enum AmmCommand {
    /// Create and fund a pool; prints the pool and the LP token account.
    ///
    /// Creates vaults and an LP mint controlled by the pool authority, a protocol fee
    /// account and an LP token account (both owned by the keypair), and funds the vaults
    /// from the keypair's token accounts `--source-a` and `--source-b`.
    CreatePool {
        /// Mint of token A.
        #[arg(long)]
        mint_a: Pubkey,
        /// Mint of token B.
        #[arg(long)]
        mint_b: Pubkey,
        /// Token A deposited, in base units.
        #[arg(long)]
        amount_a: u64,
        /// Token B deposited, in base units.
        #[arg(long)]
        amount_b: u64,
        /// The keypair's token account of mint A that pays `--amount-a`.
        #[arg(long)]
        source_a: Pubkey,
        /// The keypair's token account of mint B that pays `--amount-b`.
        #[arg(long)]
        source_b: Pubkey,
        /// Trade fee as NUMERATOR/DENOMINATOR of the input (stays in the pool).
        #[arg(long, default_value = "25/10000", value_parser = parse_fraction)]
        trade_fee: Fraction,
        /// Protocol fee as NUMERATOR/DENOMINATOR of the input (paid in LP tokens to the
        /// fee account).
        #[arg(long, default_value = "5/10000", value_parser = parse_fraction)]
        protocol_fee: Fraction,
    },
    /// Swap `--amount` from `--source` into `--destination`.
    ///
    /// The direction (A to B or B to A) follows the source account's mint.
    Swap {
        /// The pool.
        #[arg(long)]
        pool: Pubkey,
        /// The keypair's token account paying (mint A or B of the pool).
        #[arg(long)]
        source: Pubkey,
        /// Token account receiving the other token.
        #[arg(long)]
        destination: Pubkey,
        /// Most tokens to pay, fees included, in base units.
        #[arg(long)]
        amount: u64,
        /// Fewest tokens to receive; the swap fails rather than pay out less.
        #[arg(long, default_value_t = 0)]
        min_out: u64,
    },
    /// Deposit both tokens in proportion for LP tokens.
    Deposit {
        /// The pool.
        #[arg(long)]
        pool: Pubkey,
        /// LP tokens wanted.
        #[arg(long)]
        pool_tokens: u64,
        /// Most token A to pay.
        #[arg(long)]
        max_a: u64,
        /// Most token B to pay.
        #[arg(long)]
        max_b: u64,
        /// The keypair's token account of mint A.
        #[arg(long)]
        token_a: Pubkey,
        /// The keypair's token account of mint B.
        #[arg(long)]
        token_b: Pubkey,
        /// Token account receiving the LP tokens.
        #[arg(long)]
        lp_account: Pubkey,
    },
    /// Burn LP tokens for both tokens in proportion.
    Withdraw {
        /// The pool.
        #[arg(long)]
        pool: Pubkey,
        /// LP tokens to burn.
        #[arg(long)]
        pool_tokens: u64,
        /// Fewest token A to accept.
        #[arg(long, default_value_t = 0)]
        min_a: u64,
        /// Fewest token B to accept.
        #[arg(long, default_value_t = 0)]
        min_b: u64,
        /// Token account receiving token A.
        #[arg(long)]
        token_a: Pubkey,
        /// Token account receiving token B.
        #[arg(long)]
        token_b: Pubkey,
        /// The keypair's LP token account paying the LP tokens.
        #[arg(long)]
        lp_account: Pubkey,
    },
}

/// A fee fraction given as `NUMERATOR/DENOMINATOR`.
#[derive(Clone, Copy, Debug)]
pub struct Fraction {
    numerator: u64,
    denominator: u64,
}

/// Parses `NUMERATOR/DENOMINATOR` (or a bare `0` for no fee).
fn parse_fraction(text: &str) -> Result<Fraction, String> {
    if text.trim() == "0" {
        return Ok(Fraction {
            numerator: 0,
            denominator: 0,
        });
    }
    let (numerator, denominator) = text
        .split_once('/')
        .ok_or_else(|| format!("{text:?} is not NUMERATOR/DENOMINATOR, e.g. 25/10000"))?;
    let number = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|e| format!("{part:?} in {text:?}: {e}"))
    };
    Ok(Fraction {
        numerator: number(numerator)?,
        denominator: number(denominator)?,
    })
}

/// Runs one `braid amm` command.
pub fn run(context: &Context, command: AmmCommand) -> Result<Output, String> {
    match command {
        AmmCommand::CreatePool {
            mint_a,
            mint_b,
            amount_a,
            amount_b,
            source_a,
            source_b,
            trade_fee,
            protocol_fee,
        } => {
            let fees = Fees {
                trade_fee_numerator: trade_fee.numerator,
                trade_fee_denominator: trade_fee.denominator,
                protocol_fee_numerator: protocol_fee.numerator,
                protocol_fee_denominator: protocol_fee.denominator,
            };
            create_pool(
                context,
                [(mint_a, amount_a, source_a), (mint_b, amount_b, source_b)],
                fees,
            )
        }
        AmmCommand::Swap {
            pool,
            source,
            destination,
            amount,
            min_out,
        } => swap(context, &pool, &source, &destination, amount, min_out),
        AmmCommand::Deposit {
            pool,
            pool_tokens,
            max_a,
            max_b,
            token_a,
            token_b,
            lp_account,
        } => {
            let payer = context.signer()?;
            let keys = pool_keys(context, &pool)?.0;
            let instruction = amm::deposit_all(
                &keys,
                &payer.pubkey(),
                &token_a,
                &token_b,
                &lp_account,
                pool_tokens,
                max_a,
                max_b,
            );
            let mut output = context.send_checked("deposit", &[instruction], &payer, &[])?;
            let lp_balance = chain::balance(context, &lp_account)?;
            output.text = format!("LP balance: {lp_balance}\n{}", output.text);
            extend(
                &mut output.json,
                json!({"pool": pool.to_string(), "pool_tokens": pool_tokens, "lp_account": lp_account.to_string(), "lp_balance": lp_balance}),
            );
            Ok(output)
        }
        AmmCommand::Withdraw {
            pool,
            pool_tokens,
            min_a,
            min_b,
            token_a,
            token_b,
            lp_account,
        } => {
            let payer = context.signer()?;
            let keys = pool_keys(context, &pool)?.0;
            let before = (
                chain::balance(context, &token_a)?,
                chain::balance(context, &token_b)?,
            );
            let instruction = amm::withdraw_all(
                &keys,
                &payer.pubkey(),
                &lp_account,
                &token_a,
                &token_b,
                pool_tokens,
                min_a,
                min_b,
            );
            let mut output = context.send_checked("withdraw", &[instruction], &payer, &[])?;
            let received_a = chain::balance(context, &token_a)?.saturating_sub(before.0);
            let received_b = chain::balance(context, &token_b)?.saturating_sub(before.1);
            output.text = format!("received: {received_a} A, {received_b} B\n{}", output.text);
            extend(
                &mut output.json,
                json!({"pool": pool.to_string(), "pool_tokens": pool_tokens, "received_a": received_a, "received_b": received_b}),
            );
            Ok(output)
        }
    }
}

/// The pool at `pool`, as the builders want its keys, and its state.
fn pool_keys(context: &Context, pool: &Pubkey) -> Result<(PoolKeys, Pool), String> {
    let account = chain::fetch(context, pool, "pool")?;
    let state = (account.owner == braid_program_amm::ID)
        .then(|| Pool::try_from_slice(&account.data).ok())
        .flatten()
        .filter(Pool::is_initialized)
        .ok_or_else(|| format!("{pool} is not an initialized AMM pool"))?;
    let keys = PoolKeys {
        pool: *pool,
        token_a_vault: state.token_a_vault,
        token_b_vault: state.token_b_vault,
        pool_mint: state.pool_mint,
        fee_account: state.fee_account,
    };
    Ok((keys, state))
}

/// `create-pool`: three transactions, since every new account signs and one transaction
/// cannot carry them all. The pool account itself is created, funded and initialized in the
/// last one, so nobody can initialize it with other vaults in between.
fn create_pool(
    context: &Context,
    sides: [(Pubkey, u64, Pubkey); 2],
    fees: Fees,
) -> Result<Output, String> {
    let [(mint_a, amount_a, source_a), (mint_b, amount_b, source_b)] = sides;
    fees.validate()
        .map_err(|e| format!("create-pool: invalid fees: {e}"))?;
    if mint_a == mint_b {
        return Err("create-pool: --mint-a and --mint-b must differ".into());
    }
    chain::check_source(context, &source_a, &mint_a, amount_a)?;
    chain::check_source(context, &source_b, &mint_b, amount_b)?;
    let payer = context.signer()?;
    let me = payer.pubkey();

    let pool = Keypair::new();
    let (authority, _) = pool_authority(&pool.pubkey());
    let (lp_mint, vault_a, vault_b) = (Keypair::new(), Keypair::new(), Keypair::new());
    let mut accounts = Vec::new();
    accounts.extend(create_mint(&me, &lp_mint, &authority, LP_MINT_DECIMALS));
    accounts.extend(create_token_account(&me, &vault_a, &mint_a, &authority));
    accounts.extend(create_token_account(&me, &vault_b, &mint_b, &authority));
    context.send_checked(
        "create-pool (vaults and LP mint)",
        &accounts,
        &payer,
        &[&lp_mint, &vault_a, &vault_b],
    )?;

    let (fee_account, lp_account) = (Keypair::new(), Keypair::new());
    let mut lp_accounts = Vec::new();
    lp_accounts.extend(create_token_account(
        &me,
        &fee_account,
        &lp_mint.pubkey(),
        &me,
    ));
    lp_accounts.extend(create_token_account(
        &me,
        &lp_account,
        &lp_mint.pubkey(),
        &me,
    ));
    context.send_checked(
        "create-pool (LP accounts)",
        &lp_accounts,
        &payer,
        &[&fee_account, &lp_account],
    )?;

    let keys = PoolKeys {
        pool: pool.pubkey(),
        token_a_vault: vault_a.pubkey(),
        token_b_vault: vault_b.pubkey(),
        pool_mint: lp_mint.pubkey(),
        fee_account: fee_account.pubkey(),
    };
    let initialize = [
        create_state_account(&me, &pool, POOL_BYTES, &braid_program_amm::ID),
        braid_program_token::instruction::transfer(&source_a, &keys.token_a_vault, &me, amount_a),
        braid_program_token::instruction::transfer(&source_b, &keys.token_b_vault, &me, amount_b),
        amm::initialize_pool(&keys, &lp_account.pubkey(), fees),
    ];
    let mut output = context.send_checked("create-pool", &initialize, &payer, &[&pool])?;
    let lp_tokens = chain::balance(context, &lp_account.pubkey())?;
    output.text = format!(
        "pool: {}\nLP token account: {} ({lp_tokens} LP tokens)\nLP mint: {}\n{}",
        keys.pool,
        lp_account.pubkey(),
        keys.pool_mint,
        output.text
    );
    extend(
        &mut output.json,
        json!({
            "pool": keys.pool.to_string(),
            "lp_account": lp_account.pubkey().to_string(),
            "lp_tokens": lp_tokens,
            "lp_mint": keys.pool_mint.to_string(),
            "token_a_vault": keys.token_a_vault.to_string(),
            "token_b_vault": keys.token_b_vault.to_string(),
            "fee_account": keys.fee_account.to_string(),
            "authority": authority.to_string(),
        }),
    );
    Ok(output)
}

fn swap(
    context: &Context,
    pool: &Pubkey,
    source: &Pubkey,
    destination: &Pubkey,
    amount: u64,
    min_out: u64,
) -> Result<Output, String> {
    let payer = context.signer()?;
    let (keys, state) = pool_keys(context, pool)?;
    let source_mint = chain::token_account(context, source)?.mint;
    let direction = if source_mint == state.token_a_mint {
        TradeDirection::AtoB
    } else if source_mint == state.token_b_mint {
        TradeDirection::BtoA
    } else {
        return Err(format!(
            "swap: source {source} holds mint {source_mint}, which pool {pool} does not trade"
        ));
    };
    let before = chain::balance(context, destination)?;
    let instruction = amm::swap(
        &keys,
        &payer.pubkey(),
        source,
        destination,
        direction,
        amount,
        min_out,
    );
    let mut output = context.send_checked("swap", &[instruction], &payer, &[])?;
    let received = chain::balance(context, destination)?.saturating_sub(before);
    let direction = match direction {
        TradeDirection::AtoB => "AtoB",
        TradeDirection::BtoA => "BtoA",
    };
    output.text = format!("swapped {direction}: received {received}\n{}", output.text);
    extend(
        &mut output.json,
        json!({"pool": pool.to_string(), "direction": direction, "amount_in": amount, "min_out": min_out, "received": received}),
    );
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_parse() {
        let fee = parse_fraction("25/10000").unwrap();
        assert_eq!((fee.numerator, fee.denominator), (25, 10_000));
        let none = parse_fraction("0").unwrap();
        assert_eq!((none.numerator, none.denominator), (0, 0));
        assert!(parse_fraction("25").is_err());
        assert!(parse_fraction("a/b").is_err());
    }
}
