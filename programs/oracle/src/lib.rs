//! Price feeds: one account per feed holding a price, its confidence, a decimal exponent, the
//! slot it was last set in, and the only key allowed to set it.
//!
//! Design:
//!
//! - A feed account is created by the client with the System program's `create_account`
//!   (owner = this program, space = [`FEED_BYTES`]) and initialized by
//!   [`OracleInstruction::InitializeFeed`] in the *same transaction*: like SPL Token's
//!   `InitializeMint2`, initialization does not require the feed's own signature, so a feed
//!   created and left uninitialized could be claimed by anyone. A zeroed account reads as
//!   uninitialized (the leading flag is 0), which is what `create_account` gives us.
//! - The layout is fixed-size borsh, so a reader deserializes one small struct and nothing
//!   else; the feed is written by its authority only and read by any number of consumers,
//!   which the scheduler can run in parallel because readers never conflict.
//! - Consumers do not call this program: they list the feed as a readonly account and call
//!   [`load_price`], which checks the owner, the initialization, that a price was ever set,
//!   and staleness against their own `max_age_slots`. Consumers must still check that the
//!   feed's *key* is the one they expect (e.g. the key stored in their pool).
//! - A price is the integer `price × 10^exponent`; a price of zero means "never set", which
//!   is why [`OracleInstruction::SetPrice`] requires `price > 0`.

use borsh::{BorshDeserialize, BorshSerialize};
use braid_runtime::invoke_context::InvokeContext;
use braid_runtime::program::{Program, ProgramErrorName};
use braid_runtime::{Account, AccountMeta, Instruction, InstructionError, Pubkey};

/// The program's id ("Oracle" is not base58: it has an `O`).
pub const ID: Pubkey = Pubkey::from_str_const("PriceFeed1111111111111111111111111111111111");
/// Size of a feed account's data, in bytes: flag 1 + authority 32 + price 8 + confidence 8 +
/// exponent 4 + slot 8.
pub const FEED_BYTES: usize = 1 + 32 + 8 + 8 + 4 + 8;
/// Compute units every oracle instruction costs (one small deserialize and serialize).
pub const ORACLE_INSTRUCTION_UNITS: u64 = 300;

/// The program's instructions (borsh-encoded).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum OracleInstruction {
    /// Initializes a zeroed feed account. Accounts: `[writable] feed` (owned by this program,
    /// [`FEED_BYTES`] long), `[signer] authority`.
    InitializeFeed {
        /// Decimal exponent of every price this feed reports.
        exponent: i32,
    },
    /// Sets the price and stamps it with the current slot. Accounts: `[writable] feed`,
    /// `[signer] authority`.
    SetPrice {
        /// The new price, in units of `10^exponent`; must be positive.
        price: i64,
        /// The confidence interval, in the same units.
        confidence: u64,
    },
}

/// A feed account's state.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PriceFeed {
    /// Whether `InitializeFeed` has run; a freshly created (zeroed) account reads `false`.
    pub is_initialized: bool,
    /// The only key that may set the price.
    pub authority: Pubkey,
    /// The price in units of `10^exponent`; zero until the first `SetPrice`.
    pub price: i64,
    /// The confidence interval, in the same units.
    pub confidence: u64,
    /// Decimal exponent of `price` and `confidence`.
    pub exponent: i32,
    /// The slot of the last `SetPrice`.
    pub last_updated_slot: u64,
}

impl PriceFeed {
    /// Decodes a feed from account data of exactly [`FEED_BYTES`].
    pub fn unpack(data: &[u8]) -> Result<Self, OracleError> {
        if data.len() != FEED_BYTES {
            return Err(OracleError::InvalidFeedData);
        }
        Self::try_from_slice(data).map_err(|_| OracleError::InvalidFeedData)
    }

    /// Encodes the feed into account data of exactly [`FEED_BYTES`].
    pub fn pack(&self, data: &mut [u8]) -> Result<(), OracleError> {
        if data.len() != FEED_BYTES {
            return Err(OracleError::InvalidFeedData);
        }
        let mut cursor = data;
        self.serialize(&mut cursor)
            .map_err(|_| OracleError::InvalidFeedData)
    }
}

/// A price read from a feed by [`load_price`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// The price in units of `10^exponent`; always positive.
    pub price: i64,
    /// The confidence interval, in the same units.
    pub confidence: u64,
    /// Decimal exponent.
    pub exponent: i32,
    /// The slot the price was set in.
    pub slot: u64,
}

/// The program's errors, reported as `InstructionError::Custom(code)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[repr(u32)]
pub enum OracleError {
    /// The signer is not the feed's authority.
    #[error("signer is not the feed's authority")]
    NotAuthority = 0,
    /// A price must be positive.
    #[error("price must be positive")]
    InvalidPrice = 1,
    /// The feed was already initialized.
    #[error("feed already initialized")]
    AlreadyInitialized = 2,
    /// The feed has not been initialized.
    #[error("feed not initialized")]
    Uninitialized = 3,
    /// The price is older than the consumer accepts.
    #[error("price is stale")]
    StalePrice = 4,
    /// The account is not owned by the oracle program.
    #[error("account is not owned by the oracle program")]
    WrongOwner = 5,
    /// The account's data is not a feed (wrong size or undecodable).
    #[error("account data is not a price feed")]
    InvalidFeedData = 6,
    /// The feed was initialized but no price was ever set.
    #[error("feed has no price yet")]
    PriceNotSet = 7,
}

braid_runtime::custom_error_codes!(OracleError {
    NotAuthority,
    InvalidPrice,
    AlreadyInitialized,
    Uninitialized,
    StalePrice,
    WrongOwner,
    InvalidFeedData,
    PriceNotSet,
});

/// Reads a usable price from a feed account a consumer program was handed.
///
/// Rejects an account not owned by the oracle ([`OracleError::WrongOwner`]), one that is not
/// a feed, an uninitialized feed, a feed without a price, and a price whose age
/// `current_slot − last_updated_slot` exceeds `max_age_slots` ([`OracleError::StalePrice`]).
/// A price stamped after `current_slot` (impossible on chain) counts as age zero.
pub fn load_price(
    account: &Account,
    current_slot: u64,
    max_age_slots: u64,
) -> Result<Price, OracleError> {
    let price = load_price_unchecked_age(account)?;
    if current_slot.saturating_sub(price.slot) > max_age_slots {
        return Err(OracleError::StalePrice);
    }
    Ok(price)
}

/// Like [`load_price`] without the staleness check, for consumers with their own rule about
/// which slots a price may come from (e.g. "set at or before a policy's expiry").
pub fn load_price_unchecked_age(account: &Account) -> Result<Price, OracleError> {
    if account.owner != ID {
        return Err(OracleError::WrongOwner);
    }
    let feed = PriceFeed::unpack(&account.data)?;
    if !feed.is_initialized {
        return Err(OracleError::Uninitialized);
    }
    if feed.price <= 0 {
        return Err(OracleError::PriceNotSet);
    }
    Ok(Price {
        price: feed.price,
        confidence: feed.confidence,
        exponent: feed.exponent,
        slot: feed.last_updated_slot,
    })
}

/// Builds `InitializeFeed` for a feed account already created with owner [`ID`] and
/// [`FEED_BYTES`] of space (send it in the same transaction as the `create_account`).
pub fn initialize_feed(feed: &Pubkey, authority: &Pubkey, exponent: i32) -> Instruction {
    Instruction::new_with_borsh(
        ID,
        &OracleInstruction::InitializeFeed { exponent },
        vec![
            AccountMeta::new(*feed, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

/// Builds `SetPrice`.
pub fn set_price(feed: &Pubkey, authority: &Pubkey, price: i64, confidence: u64) -> Instruction {
    Instruction::new_with_borsh(
        ID,
        &OracleInstruction::SetPrice { price, confidence },
        vec![
            AccountMeta::new(*feed, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

/// Account positions of `InitializeFeed`.
pub mod initialize_feed {
    /// The feed account to initialize (writable, owned by this program, zeroed).
    pub const FEED: usize = 0;
    /// The key that will be allowed to set the price (signer).
    pub const AUTHORITY: usize = 1;
}

/// Account positions of `SetPrice`.
pub mod set_price {
    /// The feed (writable).
    pub const FEED: usize = 0;
    /// The feed's authority (signer).
    pub const AUTHORITY: usize = 1;
}

/// The oracle program.
pub struct OracleProgram;

impl Program for OracleProgram {
    fn id(&self) -> Pubkey {
        ID
    }

    fn name(&self) -> &'static str {
        "oracle"
    }

    fn describe_error(&self, code: u32) -> Option<ProgramErrorName> {
        OracleError::try_from(code)
            .ok()
            .map(|error| ProgramErrorName::of("OracleError", &error))
    }

    fn process(&self, ctx: &mut InvokeContext<'_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(ORACLE_INSTRUCTION_UNITS)?;
        let instruction = OracleInstruction::try_from_slice(data)
            .map_err(|_| InstructionError::InvalidInstructionData)?;
        // Both instructions take the same accounts; each names its own positions.
        let (feed_position, authority_position) = match instruction {
            OracleInstruction::InitializeFeed { .. } => {
                (initialize_feed::FEED, initialize_feed::AUTHORITY)
            }
            OracleInstruction::SetPrice { .. } => (set_price::FEED, set_price::AUTHORITY),
        };
        let authority = *ctx.key(authority_position)?;
        if !ctx.is_signer(authority_position)? {
            return Err(InstructionError::MissingRequiredSignature);
        }
        let account = ctx.account(feed_position)?;
        if account.owner != ID {
            return Err(InstructionError::IncorrectProgramId);
        }
        let mut feed =
            PriceFeed::unpack(&account.data).map_err(|_| InstructionError::InvalidAccountData)?;
        match instruction {
            OracleInstruction::InitializeFeed { exponent } => {
                if feed.is_initialized {
                    return Err(OracleError::AlreadyInitialized.into());
                }
                feed = PriceFeed {
                    is_initialized: true,
                    authority,
                    price: 0,
                    confidence: 0,
                    exponent,
                    last_updated_slot: 0,
                };
            }
            OracleInstruction::SetPrice { price, confidence } => {
                if !feed.is_initialized {
                    return Err(OracleError::Uninitialized.into());
                }
                if feed.authority != authority {
                    return Err(OracleError::NotAuthority.into());
                }
                if price <= 0 {
                    return Err(OracleError::InvalidPrice.into());
                }
                feed.price = price;
                feed.confidence = confidence;
                feed.last_updated_slot = ctx.clock().slot;
                ctx.log(format_args!(
                    "price = {price} ± {confidence} e{}",
                    feed.exponent
                ));
            }
        }
        let account = ctx.account_mut(feed_position)?;
        feed.pack(&mut account.data)
            .map_err(|_| InstructionError::InvalidAccountData)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_bytes_is_the_encoded_size() {
        let feed = PriceFeed {
            is_initialized: true,
            authority: Pubkey::default(),
            price: 1,
            confidence: 2,
            exponent: -3,
            last_updated_slot: 4,
        };
        assert_eq!(borsh::to_vec(&feed).unwrap().len(), FEED_BYTES);
        assert_eq!(ID.as_ref().len(), 32);
        assert_ne!(ID, Pubkey::default());
    }

    #[test]
    fn builders_list_accounts_at_the_named_positions() {
        let feed = Pubkey::new_from_array([1; 32]);
        let authority = Pubkey::new_from_array([2; 32]);
        let ix = initialize_feed(&feed, &authority, -6);
        assert_eq!(ix.accounts.len(), 2);
        assert_eq!(ix.accounts[initialize_feed::FEED].pubkey, feed);
        assert_eq!(ix.accounts[initialize_feed::AUTHORITY].pubkey, authority);
        let ix = set_price(&feed, &authority, 1, 0);
        assert_eq!(ix.accounts.len(), 2);
        assert_eq!(ix.accounts[set_price::FEED].pubkey, feed);
        assert_eq!(ix.accounts[set_price::AUTHORITY].pubkey, authority);
    }

    #[test]
    fn codes_are_stable() {
        // Codes are part of the program's interface: appended, never renumbered.
        assert_eq!(OracleError::ALL.len(), 8);
        assert_eq!(OracleError::PriceNotSet.code(), 7);
        assert_eq!(OracleError::try_from(8), Err(8));
    }
}
