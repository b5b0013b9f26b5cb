//! Accounts the program owns, and every state transition as a pure function.
//!
//! # Design
//!
//! - [`LendingMarket`]: an owner and a quote currency. Its program-derived authority
//!   ([`crate::market_authority`]) owns every vault and is the mint authority of every
//!   collateral mint, so only this program moves the market's tokens.
//! - [`Reserve`]: one per token, a shared hot account. Liquidity is `available` (tokens in
//!   the vault) plus `borrowed` (a [`Decimal`] that grows with interest); total liquidity is
//!   their sum by definition, so the invariant `available + borrowed = total` is structural.
//!   Depositors hold collateral tokens; one collateral token is worth
//!   `total liquidity / collateral supply` liquidity, which rises as interest accrues.
//! - [`Obligation`]: one per user, so independent users never write the same account. It
//!   records collateral deposited per reserve and liquidity borrowed per reserve; each borrow
//!   keeps the reserve's cumulative borrow rate at its last update, so its debt grows by the
//!   ratio of the reserve's current rate to that snapshot. At most
//!   [`MAX_OBLIGATION_RESERVES`] deposits and as many borrows keep the account fixed-size.
//!
//! Every transition lives here as a method on plain structs, taking the current slot: the
//! processor only loads accounts, checks identities, moves tokens and stores the result, and
//! the property tests drive exactly the code the program runs.
//!
//! Staleness: a reserve or obligation is fresh only when it was refreshed in the current slot
//! and nothing changed it since. Instructions that change balances require fresh inputs and
//! mark what they change stale, so a transaction refreshes before each use, as in SPL.
//!
//! Health: an obligation may borrow up to `allowed_borrow_value` (deposits valued at their
//! loan-to-value ratios); it becomes liquidatable when `borrowed_value` exceeds
//! `unhealthy_borrow_value` (deposits valued at their liquidation thresholds). Since a
//! threshold is above its loan-to-value ratio, a borrow or withdrawal that respects the
//! allowed value always leaves the obligation healthy.

use borsh::{BorshDeserialize, BorshSerialize};
use braid_runtime::Pubkey;

use crate::error::LendingError;
use crate::math::{Decimal, Rounding, WAD, pow10};

/// Version byte of initialized accounts; zero means uninitialized.
pub const PROGRAM_VERSION: u8 = 1;
/// Slots in a year at 400 ms per slot: annual rates are divided by this per slot.
pub const SLOTS_PER_YEAR: u64 = 78_840_000;
/// Most distinct reserves an obligation may deposit into, and borrow from.
pub const MAX_OBLIGATION_RESERVES: usize = 4;
/// Largest share of one borrow a single liquidation may repay, in percent.
pub const LIQUIDATION_CLOSE_FACTOR_PERCENT: u8 = 50;
/// A borrow below this many tokens may be liquidated in full, so dust can be cleared.
pub const LIQUIDATION_CLOSE_AMOUNT_TOKENS: u64 = 2;
/// Most decimals a reserve's liquidity mint may have (keeps `10^decimals × 10^18` in u128).
pub const MINT_DECIMALS_MAX: u8 = 18;
/// Largest magnitude of an oracle price exponent accepted.
pub const ORACLE_EXPONENT_MAX: i32 = 18;

/// Bytes of a [`LendingMarket`] account.
pub const LENDING_MARKET_LEN: usize = 66;
/// Bytes of a [`Reserve`] account.
pub const RESERVE_LEN: usize = 282;
/// Bytes of an [`Obligation`] account with every deposit and borrow slot used.
pub const OBLIGATION_LEN: usize = 690;

/// When an account was last refreshed, and whether it changed since.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LastUpdate {
    /// Slot of the last refresh.
    pub slot: u64,
    /// Set when something changed after the refresh.
    pub stale: bool,
}

impl LastUpdate {
    /// Stale as of `slot`: must be refreshed before use.
    pub fn new(slot: u64) -> Self {
        Self { slot, stale: true }
    }

    /// Records a refresh in `slot`.
    pub fn update(&mut self, slot: u64) {
        self.slot = slot;
        self.stale = false;
    }

    /// Records a change after the refresh.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Slots since the last refresh; a clock behind it is an error.
    pub fn slots_elapsed(&self, current_slot: u64) -> Result<u64, LendingError> {
        current_slot
            .checked_sub(self.slot)
            .ok_or(LendingError::MathOverflow)
    }

    /// Whether a refresh is needed before use in `current_slot`.
    pub fn is_stale(&self, current_slot: u64) -> bool {
        self.stale || self.slot != current_slot
    }
}

/// A lending market: the group of reserves that may back each other's loans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LendingMarket {
    /// [`PROGRAM_VERSION`] once initialized.
    pub version: u8,
    /// Bump seed of the market authority address.
    pub bump_seed: u8,
    /// Who may add reserves.
    pub owner: Pubkey,
    /// What market values are denominated in (e.g. `b"USD"` padded with zeros).
    pub quote_currency: [u8; 32],
}

/// A reserve's risk and interest parameters. Percentages are whole percents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ReserveConfig {
    /// Utilization at the kink of the interest curve, in percent.
    pub optimal_utilization_rate_percent: u8,
    /// Share of a deposit's value that may be borrowed against it, in percent.
    pub loan_to_value_ratio_percent: u8,
    /// Extra collateral value a liquidator receives over what they repay, in percent.
    pub liquidation_bonus_percent: u8,
    /// Share of a deposit's value above which borrows make the obligation unhealthy, in
    /// percent.
    pub liquidation_threshold_percent: u8,
    /// Annual borrow rate at zero utilization, in percent.
    pub min_borrow_rate_percent: u8,
    /// Annual borrow rate at optimal utilization, in percent.
    pub optimal_borrow_rate_percent: u8,
    /// Annual borrow rate at full utilization, in percent.
    pub max_borrow_rate_percent: u8,
    /// Oldest oracle price accepted, in slots.
    pub max_oracle_age_slots: u64,
}

impl ReserveConfig {
    /// Checks ranges and ordering: utilization ≤ 100, LTV < threshold ≤ 100, bonus ≤ 100,
    /// and min ≤ optimal ≤ max borrow rate.
    pub fn validate(&self) -> Result<(), LendingError> {
        let valid = self.optimal_utilization_rate_percent <= 100
            && self.loan_to_value_ratio_percent < 100
            && self.loan_to_value_ratio_percent < self.liquidation_threshold_percent
            && self.liquidation_threshold_percent <= 100
            && self.liquidation_bonus_percent <= 100
            && self.min_borrow_rate_percent <= self.optimal_borrow_rate_percent
            && self.optimal_borrow_rate_percent <= self.max_borrow_rate_percent;
        if valid {
            Ok(())
        } else {
            Err(LendingError::InvalidConfig)
        }
    }
}

/// The liquidity side of a reserve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ReserveLiquidity {
    /// The token lent out.
    pub mint: Pubkey,
    /// Its decimals.
    pub mint_decimals: u8,
    /// The vault token account holding available liquidity (owned by the market authority).
    pub supply: Pubkey,
    /// The oracle price feed of one whole token in the quote currency.
    pub oracle: Pubkey,
    /// Tokens in the vault, available to borrow or redeem.
    pub available_amount: u64,
    /// Tokens lent out, including accrued interest.
    pub borrowed_amount_wads: Decimal,
    /// Product of all per-slot interest factors since the reserve was created.
    pub cumulative_borrow_rate_wads: Decimal,
    /// Price of one whole token at the last refresh.
    pub market_price: Decimal,
}

impl ReserveLiquidity {
    /// `available + borrowed`.
    pub fn total_supply(&self) -> Result<Decimal, LendingError> {
        Decimal::from_u64(self.available_amount).checked_add(self.borrowed_amount_wads)
    }

    /// `borrowed / total`, zero for an empty reserve.
    pub fn utilization_rate(&self) -> Result<Decimal, LendingError> {
        let total = self.total_supply()?;
        if total.is_zero() {
            return Ok(Decimal::ZERO);
        }
        self.borrowed_amount_wads.div_floor(total)
    }

    /// Value of `amount` base units at the market price: `amount × price / 10^decimals`.
    pub fn market_value(
        &self,
        amount: Decimal,
        rounding: Rounding,
    ) -> Result<Decimal, LendingError> {
        let scale = WAD
            .checked_mul(pow10(u32::from(self.mint_decimals))?)
            .ok_or(LendingError::MathOverflow)?;
        crate::math::mul_div(amount.raw(), self.market_price.raw(), scale, rounding)
            .map(Decimal::from_raw)
    }
}

/// The collateral side of a reserve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ReserveCollateral {
    /// The collateral token mint (mint authority: the market authority).
    pub mint: Pubkey,
    /// Collateral tokens in existence.
    pub mint_total_supply: u64,
    /// Token account holding collateral deposited into obligations (owned by the market
    /// authority).
    pub supply: Pubkey,
}

/// A pool of one token: lent out to borrowers, owned collectively by depositors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Reserve {
    /// [`PROGRAM_VERSION`] once initialized.
    pub version: u8,
    /// Last refresh.
    pub last_update: LastUpdate,
    /// The market it belongs to.
    pub lending_market: Pubkey,
    /// Liquidity state.
    pub liquidity: ReserveLiquidity,
    /// Collateral state.
    pub collateral: ReserveCollateral,
    /// Parameters.
    pub config: ReserveConfig,
}

impl Reserve {
    /// Fails with [`LendingError::ReserveStale`] unless refreshed in `current_slot`.
    pub fn check_fresh(&self, current_slot: u64) -> Result<(), LendingError> {
        if self.last_update.is_stale(current_slot) {
            return Err(LendingError::ReserveStale);
        }
        Ok(())
    }

    /// The annual borrow rate at the current utilization: linear from the minimum rate at
    /// zero to the optimal rate at the optimal utilization, then linear to the maximum rate
    /// at full utilization. Rounded up.
    pub fn current_borrow_rate(&self) -> Result<Decimal, LendingError> {
        let utilization = self.liquidity.utilization_rate()?;
        let optimal = Decimal::from_percent(self.config.optimal_utilization_rate_percent);
        let min_rate = Decimal::from_percent(self.config.min_borrow_rate_percent);
        let optimal_rate = Decimal::from_percent(self.config.optimal_borrow_rate_percent);
        let max_rate = Decimal::from_percent(self.config.max_borrow_rate_percent);
        if optimal == Decimal::ONE || utilization < optimal {
            if optimal.is_zero() {
                return Ok(min_rate);
            }
            let normalized = utilization.div_ceil(optimal)?;
            min_rate.checked_add(normalized.mul_ceil(optimal_rate.checked_sub(min_rate)?)?)
        } else {
            let normalized = utilization
                .checked_sub(optimal)?
                .div_ceil(Decimal::ONE.checked_sub(optimal)?)?;
            optimal_rate.checked_add(normalized.mul_ceil(max_rate.checked_sub(optimal_rate)?)?)
        }
    }

    /// Compounds interest for the slots since the last update:
    /// `factor = (1 + rate / SLOTS_PER_YEAR)^slots`, applied to the cumulative borrow rate
    /// and to the borrowed amount, every step rounded up.
    pub fn accrue_interest(&mut self, current_slot: u64) -> Result<(), LendingError> {
        let slots = self.last_update.slots_elapsed(current_slot)?;
        if slots == 0 {
            return Ok(());
        }
        let factor = compound_factor(self.current_borrow_rate()?, slots)?;
        self.liquidity.cumulative_borrow_rate_wads = self
            .liquidity
            .cumulative_borrow_rate_wads
            .mul_ceil(factor)?;
        self.liquidity.borrowed_amount_wads =
            self.liquidity.borrowed_amount_wads.mul_ceil(factor)?;
        Ok(())
    }

    /// Accrues interest, takes the oracle's price, and marks the reserve fresh.
    pub fn refresh(&mut self, current_slot: u64, price: Decimal) -> Result<(), LendingError> {
        self.accrue_interest(current_slot)?;
        self.liquidity.market_price = price;
        self.last_update.update(current_slot);
        Ok(())
    }

    /// Collateral tokens worth `liquidity` tokens, rounded down. One to one while the
    /// reserve is empty.
    pub fn liquidity_to_collateral(&self, liquidity: u64) -> Result<u64, LendingError> {
        let total = self.liquidity.total_supply()?;
        let supply = self.collateral.mint_total_supply;
        if supply == 0 || total.is_zero() {
            return Ok(liquidity);
        }
        Decimal::from_u64(liquidity)
            .mul_div(Decimal::from_u64(supply), total, Rounding::Floor)?
            .to_u64_floor()
    }

    /// Liquidity worth `collateral` collateral tokens, rounded as asked.
    pub fn collateral_to_liquidity(
        &self,
        collateral: u64,
        rounding: Rounding,
    ) -> Result<Decimal, LendingError> {
        let supply = self.collateral.mint_total_supply;
        if supply == 0 {
            return Ok(Decimal::from_u64(collateral));
        }
        Decimal::from_u64(collateral).mul_div(
            self.liquidity.total_supply()?,
            Decimal::from_u64(supply),
            rounding,
        )
    }

    /// Adds `liquidity` to the vault and returns the collateral to mint for it, without the
    /// freshness check (used when the reserve is created).
    fn add_liquidity(&mut self, liquidity: u64) -> Result<u64, LendingError> {
        if liquidity == 0 {
            return Err(LendingError::ZeroAmount);
        }
        let collateral = self.liquidity_to_collateral(liquidity)?;
        if collateral == 0 {
            return Err(LendingError::AmountRoundsToZero);
        }
        self.liquidity.available_amount = self
            .liquidity
            .available_amount
            .checked_add(liquidity)
            .ok_or(LendingError::MathOverflow)?;
        self.collateral.mint_total_supply = self
            .collateral
            .mint_total_supply
            .checked_add(collateral)
            .ok_or(LendingError::MathOverflow)?;
        Ok(collateral)
    }

    /// A new reserve holding an initial deposit of `liquidity`; returns it and the collateral
    /// to mint for that deposit.
    pub fn new(
        current_slot: u64,
        lending_market: Pubkey,
        liquidity: ReserveLiquidity,
        collateral: ReserveCollateral,
        config: ReserveConfig,
        initial_liquidity: u64,
    ) -> Result<(Reserve, u64), LendingError> {
        config.validate()?;
        if liquidity.mint_decimals > MINT_DECIMALS_MAX {
            return Err(LendingError::InvalidTokenAccount);
        }
        let mut reserve = Reserve {
            version: PROGRAM_VERSION,
            last_update: LastUpdate::new(current_slot),
            lending_market,
            liquidity: ReserveLiquidity {
                available_amount: 0,
                borrowed_amount_wads: Decimal::ZERO,
                cumulative_borrow_rate_wads: Decimal::ONE,
                ..liquidity
            },
            collateral: ReserveCollateral {
                mint_total_supply: 0,
                ..collateral
            },
            config,
        };
        let minted = reserve.add_liquidity(initial_liquidity)?;
        Ok((reserve, minted))
    }

    /// A deposit of `liquidity` tokens: returns the collateral tokens to mint (rounded down).
    pub fn deposit_liquidity(
        &mut self,
        current_slot: u64,
        liquidity: u64,
    ) -> Result<u64, LendingError> {
        self.check_fresh(current_slot)?;
        let collateral = self.add_liquidity(liquidity)?;
        self.last_update.mark_stale();
        Ok(collateral)
    }

    /// A redemption of `collateral` tokens: returns the liquidity to pay out (rounded down).
    pub fn redeem_collateral(
        &mut self,
        current_slot: u64,
        collateral: u64,
    ) -> Result<u64, LendingError> {
        self.check_fresh(current_slot)?;
        if collateral == 0 {
            return Err(LendingError::ZeroAmount);
        }
        let liquidity = self
            .collateral_to_liquidity(collateral, Rounding::Floor)?
            .to_u64_floor()?;
        if liquidity == 0 {
            return Err(LendingError::AmountRoundsToZero);
        }
        if liquidity > self.liquidity.available_amount {
            return Err(LendingError::InsufficientLiquidity);
        }
        let supply = self
            .collateral
            .mint_total_supply
            .checked_sub(collateral)
            .ok_or(LendingError::MathOverflow)?;
        self.liquidity.available_amount = self.liquidity.available_amount.wrapping_sub(liquidity);
        self.collateral.mint_total_supply = supply;
        self.last_update.mark_stale();
        Ok(liquidity)
    }

    fn lend(&mut self, liquidity: u64) -> Result<(), LendingError> {
        let available = self
            .liquidity
            .available_amount
            .checked_sub(liquidity)
            .ok_or(LendingError::InsufficientLiquidity)?;
        let borrowed = self
            .liquidity
            .borrowed_amount_wads
            .checked_add(Decimal::from_u64(liquidity))?;
        self.liquidity.available_amount = available;
        self.liquidity.borrowed_amount_wads = borrowed;
        self.last_update.mark_stale();
        Ok(())
    }

    /// Takes `repay` tokens into the vault, settling `settle` of debt (`repay ≥ settle`).
    fn take_repayment(&mut self, repay: u64, settle: Decimal) -> Result<(), LendingError> {
        self.liquidity.available_amount = self
            .liquidity
            .available_amount
            .checked_add(repay)
            .ok_or(LendingError::MathOverflow)?;
        // The reserve and each obligation compound with separately rounded (up) products, so
        // the sum of debts may exceed the reserve's total by a few units of 10^-18; the last
        // repayment clamps at zero rather than failing.
        self.liquidity.borrowed_amount_wads =
            self.liquidity.borrowed_amount_wads.saturating_sub(settle);
        self.last_update.mark_stale();
        Ok(())
    }
}

/// `(1 + annual_rate / SLOTS_PER_YEAR)^slots`, rounded up at every step.
pub fn compound_factor(annual_rate: Decimal, slots: u64) -> Result<Decimal, LendingError> {
    let slot_rate = annual_rate.div_u64(SLOTS_PER_YEAR, Rounding::Ceil)?;
    Decimal::ONE.checked_add(slot_rate)?.pow_ceil(slots)
}

/// Collateral an obligation holds in one reserve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ObligationCollateral {
    /// The reserve whose collateral tokens these are.
    pub deposit_reserve: Pubkey,
    /// Collateral tokens deposited.
    pub deposited_amount: u64,
    /// Their value at the last refresh (rounded down).
    pub market_value: Decimal,
}

/// Liquidity an obligation owes to one reserve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ObligationLiquidity {
    /// The reserve lent from.
    pub borrow_reserve: Pubkey,
    /// The reserve's cumulative borrow rate when `borrowed_amount_wads` was last updated.
    pub cumulative_borrow_rate_wads: Decimal,
    /// Debt, including interest up to that update.
    pub borrowed_amount_wads: Decimal,
    /// Its value at the last refresh (rounded up).
    pub market_value: Decimal,
}

impl ObligationLiquidity {
    /// Brings the debt up to the reserve's `cumulative_rate`: `debt × current / snapshot`,
    /// rounded up.
    pub fn accrue_interest(&mut self, cumulative_rate: Decimal) -> Result<(), LendingError> {
        if cumulative_rate == self.cumulative_borrow_rate_wads {
            return Ok(());
        }
        if cumulative_rate < self.cumulative_borrow_rate_wads {
            return Err(LendingError::MathOverflow);
        }
        self.borrowed_amount_wads = self.borrowed_amount_wads.mul_div(
            cumulative_rate,
            self.cumulative_borrow_rate_wads,
            Rounding::Ceil,
        )?;
        self.cumulative_borrow_rate_wads = cumulative_rate;
        Ok(())
    }
}

/// One user's deposits and borrows in a market.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Obligation {
    /// [`PROGRAM_VERSION`] once initialized.
    pub version: u8,
    /// Last refresh.
    pub last_update: LastUpdate,
    /// The market.
    pub lending_market: Pubkey,
    /// Who may borrow against it and withdraw from it.
    pub owner: Pubkey,
    /// Collateral per reserve, at most [`MAX_OBLIGATION_RESERVES`].
    pub deposits: Vec<ObligationCollateral>,
    /// Debts per reserve, at most [`MAX_OBLIGATION_RESERVES`].
    pub borrows: Vec<ObligationLiquidity>,
    /// Sum of the deposits' values (rounded down).
    pub deposited_value: Decimal,
    /// Sum of the borrows' values (rounded up).
    pub borrowed_value: Decimal,
    /// Borrow value the deposits support: Σ value × loan-to-value.
    pub allowed_borrow_value: Decimal,
    /// Borrow value above which the obligation is liquidatable: Σ value × threshold.
    pub unhealthy_borrow_value: Decimal,
}

/// What a liquidation moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liquidation {
    /// Liquidity tokens the liquidator pays into the repay reserve.
    pub repay_amount: u64,
    /// Debt settled (at most `repay_amount`).
    pub settle_amount: Decimal,
    /// Collateral tokens the liquidator receives.
    pub withdraw_amount: u64,
}

impl Obligation {
    /// A new, empty obligation of `owner` in `lending_market`.
    pub fn new(current_slot: u64, lending_market: Pubkey, owner: Pubkey) -> Self {
        Obligation {
            version: PROGRAM_VERSION,
            last_update: LastUpdate::new(current_slot),
            lending_market,
            owner,
            ..Obligation::default()
        }
    }

    /// Fails with [`LendingError::ObligationStale`] unless refreshed in `current_slot`.
    pub fn check_fresh(&self, current_slot: u64) -> Result<(), LendingError> {
        if self.last_update.is_stale(current_slot) {
            return Err(LendingError::ObligationStale);
        }
        Ok(())
    }

    /// Whether a liquidator may repay its debts: borrowed value above the unhealthy value.
    pub fn is_unhealthy(&self) -> bool {
        self.borrowed_value > self.unhealthy_borrow_value
    }

    /// Revalues every deposit and borrow. `reserves` lists the reserve of each deposit, in
    /// order, then of each borrow; each must be fresh.
    pub fn refresh(
        &mut self,
        current_slot: u64,
        reserves: &[(Pubkey, &Reserve)],
    ) -> Result<(), LendingError> {
        let expected = self
            .deposits
            .len()
            .checked_add(self.borrows.len())
            .ok_or(LendingError::MathOverflow)?;
        if reserves.len() != expected {
            return Err(LendingError::InvalidObligationReserves);
        }
        let (deposit_reserves, borrow_reserves) = reserves.split_at(self.deposits.len());
        let mut deposited_value = Decimal::ZERO;
        let mut allowed = Decimal::ZERO;
        let mut unhealthy = Decimal::ZERO;
        for (collateral, (key, reserve)) in self.deposits.iter_mut().zip(deposit_reserves) {
            if *key != collateral.deposit_reserve {
                return Err(LendingError::InvalidObligationReserves);
            }
            reserve.check_fresh(current_slot)?;
            let liquidity =
                reserve.collateral_to_liquidity(collateral.deposited_amount, Rounding::Floor)?;
            let value = reserve.liquidity.market_value(liquidity, Rounding::Floor)?;
            collateral.market_value = value;
            deposited_value = deposited_value.checked_add(value)?;
            allowed = allowed.checked_add(value.mul_floor(Decimal::from_percent(
                reserve.config.loan_to_value_ratio_percent,
            ))?)?;
            unhealthy = unhealthy.checked_add(value.mul_floor(Decimal::from_percent(
                reserve.config.liquidation_threshold_percent,
            ))?)?;
        }
        let mut borrowed_value = Decimal::ZERO;
        for (borrow, (key, reserve)) in self.borrows.iter_mut().zip(borrow_reserves) {
            if *key != borrow.borrow_reserve {
                return Err(LendingError::InvalidObligationReserves);
            }
            reserve.check_fresh(current_slot)?;
            borrow.accrue_interest(reserve.liquidity.cumulative_borrow_rate_wads)?;
            let value = reserve
                .liquidity
                .market_value(borrow.borrowed_amount_wads, Rounding::Ceil)?;
            borrow.market_value = value;
            borrowed_value = borrowed_value.checked_add(value)?;
        }
        self.deposited_value = deposited_value;
        self.borrowed_value = borrowed_value;
        self.allowed_borrow_value = allowed;
        self.unhealthy_borrow_value = unhealthy;
        self.last_update.update(current_slot);
        Ok(())
    }

    fn collateral_index(&self, reserve: &Pubkey) -> Result<usize, LendingError> {
        self.deposits
            .iter()
            .position(|c| c.deposit_reserve == *reserve)
            .ok_or(LendingError::ObligationCollateralNotFound)
    }

    fn borrow_index(&self, reserve: &Pubkey) -> Result<usize, LendingError> {
        self.borrows
            .iter()
            .position(|b| b.borrow_reserve == *reserve)
            .ok_or(LendingError::ObligationBorrowNotFound)
    }

    /// Adds `collateral` tokens of `reserve_key`'s collateral. The reserve must be fresh
    /// (its collateral is valued at the next refresh).
    pub fn deposit_collateral(
        &mut self,
        current_slot: u64,
        reserve_key: Pubkey,
        reserve: &Reserve,
        collateral: u64,
    ) -> Result<(), LendingError> {
        reserve.check_fresh(current_slot)?;
        if collateral == 0 {
            return Err(LendingError::ZeroAmount);
        }
        let index = match self.collateral_index(&reserve_key) {
            Ok(index) => index,
            Err(_) => {
                if self.deposits.len() >= MAX_OBLIGATION_RESERVES {
                    return Err(LendingError::ObligationReserveLimit);
                }
                self.deposits.push(ObligationCollateral {
                    deposit_reserve: reserve_key,
                    ..Default::default()
                });
                self.deposits.len().wrapping_sub(1)
            }
        };
        let entry = self
            .deposits
            .get_mut(index)
            .ok_or(LendingError::ObligationCollateralNotFound)?;
        entry.deposited_amount = entry
            .deposited_amount
            .checked_add(collateral)
            .ok_or(LendingError::MathOverflow)?;
        self.last_update.mark_stale();
        Ok(())
    }

    /// Removes `collateral` tokens of `reserve_key`'s collateral, failing with
    /// [`LendingError::WithdrawTooLarge`] if the remaining deposits would no longer support
    /// the borrows at their loan-to-value ratios. The withdrawn value is rounded up, so the
    /// check is never looser than a refresh afterwards.
    pub fn withdraw_collateral(
        &mut self,
        current_slot: u64,
        reserve_key: Pubkey,
        reserve: &Reserve,
        collateral: u64,
    ) -> Result<(), LendingError> {
        reserve.check_fresh(current_slot)?;
        self.check_fresh(current_slot)?;
        if collateral == 0 {
            return Err(LendingError::ZeroAmount);
        }
        let index = self.collateral_index(&reserve_key)?;
        let entry = self
            .deposits
            .get(index)
            .ok_or(LendingError::ObligationCollateralNotFound)?;
        let remaining = entry
            .deposited_amount
            .checked_sub(collateral)
            .ok_or(LendingError::InsufficientCollateral)?;
        if !self.borrows.is_empty() {
            let liquidity = reserve.collateral_to_liquidity(collateral, Rounding::Ceil)?;
            let value = reserve.liquidity.market_value(liquidity, Rounding::Ceil)?;
            let lost = value.mul_ceil(Decimal::from_percent(
                reserve.config.loan_to_value_ratio_percent,
            ))?;
            let allowed = self
                .allowed_borrow_value
                .checked_sub(lost)
                .map_err(|_| LendingError::WithdrawTooLarge)?;
            if self.borrowed_value > allowed {
                return Err(LendingError::WithdrawTooLarge);
            }
        }
        if remaining == 0 {
            self.deposits.remove(index);
        } else if let Some(entry) = self.deposits.get_mut(index) {
            entry.deposited_amount = remaining;
        }
        self.last_update.mark_stale();
        Ok(())
    }

    /// Lends `liquidity` tokens from `reserve`, failing with [`LendingError::BorrowTooLarge`]
    /// if the debt's value would exceed the allowed borrow value.
    pub fn borrow(
        &mut self,
        current_slot: u64,
        reserve_key: Pubkey,
        reserve: &mut Reserve,
        liquidity: u64,
    ) -> Result<(), LendingError> {
        reserve.check_fresh(current_slot)?;
        self.check_fresh(current_slot)?;
        if liquidity == 0 {
            return Err(LendingError::ZeroAmount);
        }
        if liquidity > reserve.liquidity.available_amount {
            return Err(LendingError::InsufficientLiquidity);
        }
        let value = reserve
            .liquidity
            .market_value(Decimal::from_u64(liquidity), Rounding::Ceil)?;
        let remaining_capacity = self
            .allowed_borrow_value
            .saturating_sub(self.borrowed_value);
        if value > remaining_capacity {
            return Err(LendingError::BorrowTooLarge);
        }
        let cumulative_rate = reserve.liquidity.cumulative_borrow_rate_wads;
        let index = match self.borrow_index(&reserve_key) {
            Ok(index) => index,
            Err(_) => {
                if self.borrows.len() >= MAX_OBLIGATION_RESERVES {
                    return Err(LendingError::ObligationReserveLimit);
                }
                self.borrows.push(ObligationLiquidity {
                    borrow_reserve: reserve_key,
                    cumulative_borrow_rate_wads: cumulative_rate,
                    ..Default::default()
                });
                self.borrows.len().wrapping_sub(1)
            }
        };
        let entry = self
            .borrows
            .get_mut(index)
            .ok_or(LendingError::ObligationBorrowNotFound)?;
        entry.accrue_interest(cumulative_rate)?;
        entry.borrowed_amount_wads = entry
            .borrowed_amount_wads
            .checked_add(Decimal::from_u64(liquidity))?;
        reserve.lend(liquidity)?;
        self.last_update.mark_stale();
        Ok(())
    }

    /// Repays up to `liquidity` tokens of the debt to `reserve` (`u64::MAX` or any amount
    /// above the debt repays all of it). Returns the tokens to pay: a full repayment pays
    /// the debt rounded up.
    pub fn repay(
        &mut self,
        current_slot: u64,
        reserve_key: Pubkey,
        reserve: &mut Reserve,
        liquidity: u64,
    ) -> Result<u64, LendingError> {
        reserve.check_fresh(current_slot)?;
        self.check_fresh(current_slot)?;
        if liquidity == 0 {
            return Err(LendingError::ZeroAmount);
        }
        let index = self.borrow_index(&reserve_key)?;
        let entry = self
            .borrows
            .get_mut(index)
            .ok_or(LendingError::ObligationBorrowNotFound)?;
        entry.accrue_interest(reserve.liquidity.cumulative_borrow_rate_wads)?;
        let debt = entry.borrowed_amount_wads;
        let debt_ceil = debt.to_u64_ceil()?;
        let (repay, settle) = if liquidity >= debt_ceil {
            (debt_ceil, debt)
        } else {
            // An integer below the rounded-up debt is at most the debt itself.
            (liquidity, Decimal::from_u64(liquidity))
        };
        entry.borrowed_amount_wads = debt.checked_sub(settle)?;
        if entry.borrowed_amount_wads.is_zero() {
            self.borrows.remove(index);
        }
        reserve.take_repayment(repay, settle)?;
        self.last_update.mark_stale();
        Ok(repay)
    }

    /// Repays up to `liquidity` tokens of an unhealthy obligation's debt to `repay_reserve`
    /// (at most [`LIQUIDATION_CLOSE_FACTOR_PERCENT`] of that borrow) and seizes collateral of
    /// `withdraw_reserve` worth the repaid value plus the liquidation bonus.
    pub fn liquidate(
        &mut self,
        current_slot: u64,
        repay_key: Pubkey,
        repay_reserve: &mut Reserve,
        withdraw_key: Pubkey,
        withdraw_reserve: &Reserve,
        liquidity: u64,
    ) -> Result<Liquidation, LendingError> {
        repay_reserve.check_fresh(current_slot)?;
        withdraw_reserve.check_fresh(current_slot)?;
        self.check_fresh(current_slot)?;
        if liquidity == 0 {
            return Err(LendingError::ZeroAmount);
        }
        if !self.is_unhealthy() {
            return Err(LendingError::ObligationHealthy);
        }
        let borrow_index = self.borrow_index(&repay_key)?;
        let collateral_index = self.collateral_index(&withdraw_key)?;
        let borrow = self
            .borrows
            .get_mut(borrow_index)
            .ok_or(LendingError::ObligationBorrowNotFound)?;
        borrow.accrue_interest(repay_reserve.liquidity.cumulative_borrow_rate_wads)?;
        let debt = borrow.borrowed_amount_wads;
        let max_settle = if debt < Decimal::from_u64(LIQUIDATION_CLOSE_AMOUNT_TOKENS) {
            debt
        } else {
            debt.mul_floor(Decimal::from_percent(LIQUIDATION_CLOSE_FACTOR_PERCENT))?
        };
        let mut settle = Decimal::from_u64(liquidity).min(max_settle);
        let collateral = self
            .deposits
            .get(collateral_index)
            .ok_or(LendingError::ObligationCollateralNotFound)?;
        let settle_value = repay_reserve
            .liquidity
            .market_value(settle, Rounding::Floor)?;
        let bonus = Decimal::ONE.checked_add(Decimal::from_percent(
            withdraw_reserve.config.liquidation_bonus_percent,
        ))?;
        let withdraw_value = settle_value.mul_floor(bonus)?;
        let withdraw_amount = if withdraw_value >= collateral.market_value {
            // Not enough collateral for the full bonus: take all of it and settle only the
            // share of the debt it pays for (rounded up: the liquidator pays more, not less).
            if !withdraw_value.is_zero() {
                settle = settle
                    .mul_div(collateral.market_value, withdraw_value, Rounding::Ceil)?
                    .min(settle);
            }
            collateral.deposited_amount
        } else {
            Decimal::from_u64(collateral.deposited_amount)
                .mul_div(withdraw_value, collateral.market_value, Rounding::Floor)?
                .to_u64_floor()?
        };
        let repay_amount = settle.to_u64_ceil()?;
        if withdraw_amount == 0 || repay_amount == 0 {
            return Err(LendingError::AmountRoundsToZero);
        }
        let borrow = self
            .borrows
            .get_mut(borrow_index)
            .ok_or(LendingError::ObligationBorrowNotFound)?;
        borrow.borrowed_amount_wads = borrow.borrowed_amount_wads.checked_sub(settle)?;
        if borrow.borrowed_amount_wads.is_zero() {
            self.borrows.remove(borrow_index);
        }
        let collateral = self
            .deposits
            .get_mut(collateral_index)
            .ok_or(LendingError::ObligationCollateralNotFound)?;
        collateral.deposited_amount = collateral
            .deposited_amount
            .checked_sub(withdraw_amount)
            .ok_or(LendingError::MathOverflow)?;
        if collateral.deposited_amount == 0 {
            self.deposits.remove(collateral_index);
        }
        repay_reserve.take_repayment(repay_amount, settle)?;
        self.last_update.mark_stale();
        Ok(Liquidation {
            repay_amount,
            settle_amount: settle,
            withdraw_amount,
        })
    }
}

/// The price of one whole token from an oracle's mantissa and base-10 exponent. Fails with
/// [`LendingError::InvalidOraclePrice`] for a non-positive price or an exponent beyond
/// ±[`ORACLE_EXPONENT_MAX`].
pub fn price_to_decimal(price: i64, exponent: i32) -> Result<Decimal, LendingError> {
    let mantissa = u64::try_from(price).map_err(|_| LendingError::InvalidOraclePrice)?;
    if mantissa == 0 || exponent.unsigned_abs() > ORACLE_EXPONENT_MAX.unsigned_abs() {
        return Err(LendingError::InvalidOraclePrice);
    }
    let scale =
        u64::try_from(pow10(exponent.unsigned_abs())?).map_err(|_| LendingError::MathOverflow)?;
    if exponent >= 0 {
        Decimal::from_u64(mantissa).mul_u64(scale)
    } else {
        // Exact: 10^18 × mantissa is divisible by 10^k for k ≤ 18.
        Decimal::from_u64(mantissa).div_u64(scale, Rounding::Floor)
    }
}
