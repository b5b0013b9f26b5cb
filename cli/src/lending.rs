//! `braid lending`: reserves, deposits, borrows, repayments and liquidations built from
//! `braid_program_lending`'s builders. The keypair pays, owns the market it creates and the
//! obligations it opens.
//!
//! The program only values what was refreshed in the current slot, so every transaction
//! that moves value starts with `RefreshReserve` for each reserve involved and, when an
//! obligation's health matters (borrow, repay, liquidate), `RefreshObligation`.

use borsh::BorshDeserialize;
use braid_program_lending::instruction::{self as lending, ReserveAccounts};
use braid_program_lending::market_authority;
use braid_program_lending::state::{
    LENDING_MARKET_LEN, OBLIGATION_LEN, Obligation, RESERVE_LEN, Reserve, ReserveConfig,
};
use braid_runtime::keypair::Keypair;
use braid_runtime::{Instruction, Pubkey};
use clap::Subcommand;
use serde_json::json;

use crate::chain::{self, create_mint, create_state_account, create_token_account};
use crate::{Context, Output, extend};

/// The quote currency of markets the CLI creates.
const QUOTE_CURRENCY: [u8; 32] = {
    let mut currency = [0; 32];
    currency[0] = b'U';
    currency[1] = b'S';
    currency[2] = b'D';
    currency
};

/// `braid lending` subcommands.
#[derive(Subcommand)]
pub enum LendingCommand {
    /// Create a reserve (and a market, unless `--market` is given).
    ///
    /// The reserve lends `--mint`, priced by `--feed`, and is seeded with `--amount` from
    /// `--source`; the seed's collateral tokens go to a new account of the keypair. A new
    /// market is owned by the keypair.
    InitReserve {
        /// Existing market owned by the keypair [default: create one].
        #[arg(long)]
        market: Option<Pubkey>,
        /// The token lent.
        #[arg(long)]
        mint: Pubkey,
        /// Oracle feed pricing one whole token.
        #[arg(long)]
        feed: Pubkey,
        /// The keypair's token account paying the initial liquidity.
        #[arg(long)]
        source: Pubkey,
        /// Initial liquidity, in base units.
        #[arg(long)]
        amount: u64,
        /// Loan-to-value ratio, percent.
        #[arg(long, default_value_t = 50)]
        ltv: u8,
        /// Liquidation threshold, percent (above the LTV).
        #[arg(long, default_value_t = 60)]
        liquidation_threshold: u8,
        /// Liquidation bonus, percent.
        #[arg(long, default_value_t = 5)]
        liquidation_bonus: u8,
        /// Utilization at the interest curve's kink, percent.
        #[arg(long, default_value_t = 80)]
        optimal_utilization: u8,
        /// Annual borrow rate at zero utilization, percent.
        #[arg(long, default_value_t = 0)]
        min_rate: u8,
        /// Annual borrow rate at optimal utilization, percent.
        #[arg(long, default_value_t = 8)]
        optimal_rate: u8,
        /// Annual borrow rate at full utilization, percent.
        #[arg(long, default_value_t = 100)]
        max_rate: u8,
        /// Oldest oracle price accepted, in slots.
        #[arg(long, default_value_t = 100)]
        max_oracle_age: u64,
    },
    /// Supply liquidity and post the collateral tokens in an obligation.
    ///
    /// With `--lend-only` the collateral tokens stay in the keypair's collateral account;
    /// otherwise they go into `--obligation` (a new one when not given).
    Deposit {
        /// The reserve.
        #[arg(long)]
        reserve: Pubkey,
        /// The keypair's token account paying the liquidity.
        #[arg(long)]
        source: Pubkey,
        /// Liquidity, in base units.
        #[arg(long)]
        amount: u64,
        /// The keypair's collateral token account [default: a new one].
        #[arg(long)]
        collateral: Option<Pubkey>,
        /// The keypair's obligation [default: a new one].
        #[arg(long, conflicts_with = "lend_only")]
        obligation: Option<Pubkey>,
        /// Keep the collateral tokens instead of posting them in an obligation.
        #[arg(long)]
        lend_only: bool,
    },
    /// Borrow liquidity against an obligation's collateral.
    Borrow {
        /// The reserve to borrow from.
        #[arg(long)]
        reserve: Pubkey,
        /// The keypair's obligation.
        #[arg(long)]
        obligation: Pubkey,
        /// Token account receiving the liquidity.
        #[arg(long)]
        destination: Pubkey,
        /// Liquidity, in base units.
        #[arg(long)]
        amount: u64,
    },
    /// Repay an obligation's debt (any amount above the debt repays all of it).
    Repay {
        /// The reserve borrowed from.
        #[arg(long)]
        reserve: Pubkey,
        /// The obligation.
        #[arg(long)]
        obligation: Pubkey,
        /// The keypair's token account paying.
        #[arg(long)]
        source: Pubkey,
        /// Most liquidity to repay, in base units.
        #[arg(long)]
        amount: u64,
    },
    /// Repay part of an unhealthy obligation's debt and seize its collateral with a bonus.
    Liquidate {
        /// The obligation.
        #[arg(long)]
        obligation: Pubkey,
        /// The reserve whose debt is repaid.
        #[arg(long)]
        repay_reserve: Pubkey,
        /// The reserve whose collateral is seized.
        #[arg(long)]
        withdraw_reserve: Pubkey,
        /// The keypair's token account paying the debt.
        #[arg(long)]
        source: Pubkey,
        /// Token account receiving the seized collateral tokens.
        #[arg(long)]
        destination: Pubkey,
        /// Most liquidity to repay (capped at the close factor), in base units.
        #[arg(long)]
        amount: u64,
    },
}

/// Runs one `braid lending` command.
pub fn run(context: &Context, command: LendingCommand) -> Result<Output, String> {
    match command {
        LendingCommand::InitReserve {
            market,
            mint,
            feed,
            source,
            amount,
            ltv,
            liquidation_threshold,
            liquidation_bonus,
            optimal_utilization,
            min_rate,
            optimal_rate,
            max_rate,
            max_oracle_age,
        } => {
            let config = ReserveConfig {
                optimal_utilization_rate_percent: optimal_utilization,
                loan_to_value_ratio_percent: ltv,
                liquidation_bonus_percent: liquidation_bonus,
                liquidation_threshold_percent: liquidation_threshold,
                min_borrow_rate_percent: min_rate,
                optimal_borrow_rate_percent: optimal_rate,
                max_borrow_rate_percent: max_rate,
                max_oracle_age_slots: max_oracle_age,
            };
            init_reserve(context, market, &mint, &feed, &source, amount, config)
        }
        LendingCommand::Deposit {
            reserve,
            source,
            amount,
            collateral,
            obligation,
            lend_only,
        } => deposit(
            context,
            &reserve,
            &source,
            amount,
            collateral,
            (!lend_only).then_some(obligation),
        ),
        LendingCommand::Borrow {
            reserve,
            obligation,
            destination,
            amount,
        } => {
            let payer = context.signer()?;
            let accounts = reserve_accounts(context, &reserve)?;
            let action = lending::borrow_obligation_liquidity(
                &accounts,
                &obligation,
                &destination,
                &payer.pubkey(),
                amount,
            );
            let instructions = fresh(context, &obligation, &[&accounts], action)?;
            let mut output = context.send_checked("borrow", &instructions, &payer, &[])?;
            extend(
                &mut output.json,
                json!({"reserve": reserve.to_string(), "obligation": obligation.to_string(), "amount": amount}),
            );
            Ok(output)
        }
        LendingCommand::Repay {
            reserve,
            obligation,
            source,
            amount,
        } => {
            let payer = context.signer()?;
            let accounts = reserve_accounts(context, &reserve)?;
            let before = chain::balance(context, &source)?;
            let action = lending::repay_obligation_liquidity(
                &accounts,
                &obligation,
                &source,
                &payer.pubkey(),
                amount,
            );
            let instructions = fresh(context, &obligation, &[&accounts], action)?;
            let mut output = context.send_checked("repay", &instructions, &payer, &[])?;
            let repaid = before.saturating_sub(chain::balance(context, &source)?);
            output.text = format!("repaid: {repaid}\n{}", output.text);
            extend(
                &mut output.json,
                json!({"reserve": reserve.to_string(), "obligation": obligation.to_string(), "repaid": repaid}),
            );
            Ok(output)
        }
        LendingCommand::Liquidate {
            obligation,
            repay_reserve,
            withdraw_reserve,
            source,
            destination,
            amount,
        } => {
            let payer = context.signer()?;
            let repay = reserve_accounts(context, &repay_reserve)?;
            let withdraw = reserve_accounts(context, &withdraw_reserve)?;
            let before = chain::balance(context, &destination)?;
            let action = lending::liquidate_obligation(
                &repay,
                &withdraw,
                &obligation,
                &source,
                &destination,
                &payer.pubkey(),
                amount,
            );
            let instructions = fresh(context, &obligation, &[&repay, &withdraw], action)?;
            let mut output = context.send_checked("liquidate", &instructions, &payer, &[])?;
            let seized = chain::balance(context, &destination)?.saturating_sub(before);
            output.text = format!("seized: {seized} collateral tokens\n{}", output.text);
            extend(
                &mut output.json,
                json!({"obligation": obligation.to_string(), "seized": seized}),
            );
            Ok(output)
        }
    }
}

/// `init-reserve`: the market (if needed), then the reserve's token accounts and collateral
/// mint, then the reserve itself with its seed deposit. The reserve account is created and
/// initialized in one transaction so nobody else can initialize it.
fn init_reserve(
    context: &Context,
    market: Option<Pubkey>,
    mint: &Pubkey,
    feed: &Pubkey,
    source: &Pubkey,
    amount: u64,
    config: ReserveConfig,
) -> Result<Output, String> {
    config
        .validate()
        .map_err(|e| format!("init-reserve: {e} (see --help)"))?;
    chain::check_source(context, source, mint, amount)?;
    let decimals = chain::mint(context, mint)?.decimals;
    let payer = context.signer()?;
    let me = payer.pubkey();

    let market = match market {
        Some(market) => market,
        None => {
            let market = Keypair::new();
            let instructions = [
                create_state_account(&me, &market, LENDING_MARKET_LEN, &braid_program_lending::ID),
                lending::init_lending_market(&market.pubkey(), &me, QUOTE_CURRENCY),
            ];
            context.send_checked("init-reserve (market)", &instructions, &payer, &[&market])?;
            market.pubkey()
        }
    };
    let (authority, _) = market_authority(&market);
    let (liquidity_supply, collateral_mint, collateral_supply) =
        (Keypair::new(), Keypair::new(), Keypair::new());
    let mut instructions = Vec::new();
    instructions.extend(create_token_account(
        &me,
        &liquidity_supply,
        mint,
        &authority,
    ));
    // Collateral tokens carry the liquidity's decimals, as the program requires.
    instructions.extend(create_mint(&me, &collateral_mint, &authority, decimals));
    instructions.extend(create_token_account(
        &me,
        &collateral_supply,
        &collateral_mint.pubkey(),
        &authority,
    ));
    context.send_checked(
        "init-reserve (vaults and collateral mint)",
        &instructions,
        &payer,
        &[&liquidity_supply, &collateral_mint, &collateral_supply],
    )?;

    let (reserve, collateral) = (Keypair::new(), Keypair::new());
    let accounts = ReserveAccounts {
        reserve: reserve.pubkey(),
        lending_market: market,
        liquidity_mint: *mint,
        liquidity_supply: liquidity_supply.pubkey(),
        collateral_mint: collateral_mint.pubkey(),
        collateral_supply: collateral_supply.pubkey(),
        oracle: *feed,
    };
    let mut instructions = Vec::new();
    instructions.extend(create_token_account(
        &me,
        &collateral,
        &accounts.collateral_mint,
        &me,
    ));
    instructions.push(create_state_account(
        &me,
        &reserve,
        RESERVE_LEN,
        &braid_program_lending::ID,
    ));
    instructions.push(lending::init_reserve(
        &accounts,
        &me,
        source,
        &collateral.pubkey(),
        &me,
        amount,
        config,
    ));
    let mut output = context.send_checked(
        "init-reserve",
        &instructions,
        &payer,
        &[&reserve, &collateral],
    )?;
    output.text = format!(
        "market: {market}\nreserve: {}\ncollateral mint: {}\ncollateral account: {}\n{}",
        accounts.reserve,
        accounts.collateral_mint,
        collateral.pubkey(),
        output.text
    );
    extend(
        &mut output.json,
        json!({
            "market": market.to_string(),
            "reserve": accounts.reserve.to_string(),
            "collateral_mint": accounts.collateral_mint.to_string(),
            "collateral_account": collateral.pubkey().to_string(),
            "liquidity_supply": accounts.liquidity_supply.to_string(),
            "collateral_supply": accounts.collateral_supply.to_string(),
        }),
    );
    Ok(output)
}

/// `deposit`: supply liquidity, then (with `obligation` = `Some`) post the collateral
/// minted. Two transactions, since the collateral minted depends on the exchange rate at
/// the refresh, which the client cannot know beforehand.
fn deposit(
    context: &Context,
    reserve: &Pubkey,
    source: &Pubkey,
    amount: u64,
    collateral: Option<Pubkey>,
    obligation: Option<Option<Pubkey>>,
) -> Result<Output, String> {
    let payer = context.signer()?;
    let me = payer.pubkey();
    let accounts = reserve_accounts(context, reserve)?;
    chain::check_source(context, source, &accounts.liquidity_mint, amount)?;

    let mut instructions = Vec::new();
    let new_collateral = Keypair::new();
    let (collateral, before) = match collateral {
        Some(account) => (account, chain::balance(context, &account)?),
        None => {
            instructions.extend(create_token_account(
                &me,
                &new_collateral,
                &accounts.collateral_mint,
                &me,
            ));
            (new_collateral.pubkey(), 0)
        }
    };
    instructions.push(lending::refresh_reserve(
        &accounts.reserve,
        &accounts.oracle,
    ));
    instructions.push(lending::deposit_reserve_liquidity(
        &accounts,
        source,
        &collateral,
        &me,
        amount,
    ));
    let extra: Vec<&Keypair> = if collateral == new_collateral.pubkey() {
        vec![&new_collateral]
    } else {
        Vec::new()
    };
    let mut output = context.send_checked("deposit", &instructions, &payer, &extra)?;
    let minted = chain::balance(context, &collateral)?.saturating_sub(before);
    output.text = format!(
        "collateral account: {collateral} (+{minted} collateral tokens)\n{}",
        output.text
    );
    extend(
        &mut output.json,
        json!({"reserve": reserve.to_string(), "amount": amount, "collateral_account": collateral.to_string(), "collateral_minted": minted}),
    );
    let Some(obligation) = obligation else {
        return Ok(output);
    };

    let mut instructions = Vec::new();
    let new_obligation = Keypair::new();
    let obligation = match obligation {
        Some(obligation) => obligation,
        None => {
            instructions.push(create_state_account(
                &me,
                &new_obligation,
                OBLIGATION_LEN,
                &braid_program_lending::ID,
            ));
            instructions.push(lending::init_obligation(
                &new_obligation.pubkey(),
                &accounts.lending_market,
                &me,
            ));
            new_obligation.pubkey()
        }
    };
    instructions.push(lending::refresh_reserve(
        &accounts.reserve,
        &accounts.oracle,
    ));
    instructions.push(lending::deposit_obligation_collateral(
        &accounts,
        &obligation,
        &collateral,
        &me,
        &me,
        minted,
    ));
    let extra: Vec<&Keypair> = if obligation == new_obligation.pubkey() {
        vec![&new_obligation]
    } else {
        Vec::new()
    };
    let posted = context.send_checked(
        "deposit (posting collateral; the collateral tokens stay in the collateral account)",
        &instructions,
        &payer,
        &extra,
    )?;
    let mut output = Output {
        text: format!("obligation: {obligation}\n{}\n{}", output.text, posted.text),
        json: output.json,
    };
    extend(&mut output.json, posted.json);
    extend(
        &mut output.json,
        json!({"obligation": obligation.to_string()}),
    );
    Ok(output)
}

/// The reserve at `key`.
fn load_reserve(context: &Context, key: &Pubkey) -> Result<Reserve, String> {
    let account = chain::fetch(context, key, "reserve")?;
    (account.owner == braid_program_lending::ID)
        .then(|| Reserve::deserialize(&mut account.data.as_slice()).ok())
        .flatten()
        .filter(|reserve| reserve.version != 0)
        .ok_or_else(|| format!("{key} is not an initialized lending reserve"))
}

/// The reserve at `key`, as the builders want its accounts.
fn reserve_accounts(context: &Context, key: &Pubkey) -> Result<ReserveAccounts, String> {
    let reserve = load_reserve(context, key)?;
    Ok(ReserveAccounts {
        reserve: *key,
        lending_market: reserve.lending_market,
        liquidity_mint: reserve.liquidity.mint,
        liquidity_supply: reserve.liquidity.supply,
        collateral_mint: reserve.collateral.mint,
        collateral_supply: reserve.collateral.supply,
        oracle: reserve.liquidity.oracle,
    })
}

/// `action` preceded by what it needs fresh: every reserve the obligation uses and those of
/// `involved`, then the obligation.
fn fresh(
    context: &Context,
    obligation: &Pubkey,
    involved: &[&ReserveAccounts],
    action: Instruction,
) -> Result<Vec<Instruction>, String> {
    let account = chain::fetch(context, obligation, "obligation")?;
    let state = (account.owner == braid_program_lending::ID)
        .then(|| Obligation::deserialize(&mut account.data.as_slice()).ok())
        .flatten()
        .filter(|obligation| obligation.version != 0)
        .ok_or_else(|| format!("{obligation} is not an initialized obligation"))?;
    // RefreshObligation takes the deposits' reserves, then the borrows', in order.
    let listed: Vec<Pubkey> = state
        .deposits
        .iter()
        .map(|deposit| deposit.deposit_reserve)
        .chain(state.borrows.iter().map(|borrow| borrow.borrow_reserve))
        .collect();
    let mut refreshed: Vec<Pubkey> = Vec::new();
    let mut instructions = Vec::new();
    for accounts in involved {
        if !refreshed.contains(&accounts.reserve) {
            refreshed.push(accounts.reserve);
            instructions.push(lending::refresh_reserve(
                &accounts.reserve,
                &accounts.oracle,
            ));
        }
    }
    for reserve in &listed {
        if !refreshed.contains(reserve) {
            refreshed.push(*reserve);
            let oracle = load_reserve(context, reserve)?.liquidity.oracle;
            instructions.push(lending::refresh_reserve(reserve, &oracle));
        }
    }
    instructions.push(lending::refresh_obligation(obligation, &listed));
    instructions.push(action);
    Ok(instructions)
}
