//! Account state in SPL Token's packed layouts: the 82-byte [`Mint`] and the 165-byte
//! [`TokenAccount`], little-endian, no padding.
//!
//! `COption<Pubkey>` and `COption<u64>` (a C-compatible option) are stored as a 4-byte
//! little-endian tag — `[0, 0, 0, 0]` for none, `[1, 0, 0, 0]` for some — followed by the
//! value's bytes. Any other tag is an error. As in SPL, a `None` leaves the value bytes as they
//! were when packed into an existing buffer ([`Mint::pack_into_slice`]), and unpacking ignores
//! them: after a `Revoke` the old delegate's key is still there, behind a zero tag. Packing
//! into a fresh buffer ([`Mint::pack`]) writes zeros.
//!
//! Unpacking never panics: a wrong length, a bad option tag, a bad `bool` or a bad account
//! state is an [`UnpackError`], which the processor reports as SPL does
//! ([`InstructionError::InvalidAccountData`], or [`InstructionError::UninitializedAccount`]
//! for an uninitialized account where an initialized one is needed).

use braid_runtime::{InstructionError, Pubkey, SYSTEM_PROGRAM_ID};

use crate::INCINERATOR_ID;

/// Bytes in a packed [`Mint`].
pub const MINT_LEN: usize = 82;
/// Bytes in a packed [`TokenAccount`].
pub const ACCOUNT_LEN: usize = 165;
/// Bytes in a packed SPL multisig (not supported; recognised so it is never taken for a
/// plain signer).
pub const MULTISIG_LEN: usize = 355;

/// Bytes in a packed `COption<Pubkey>`: 4-byte tag + key.
pub const COPTION_PUBKEY_LEN: usize = 36;
/// Bytes in a packed `COption<u64>`: 4-byte tag + value.
pub const COPTION_U64_LEN: usize = 12;

/// [`Mint::mint_authority`]: `COption<Pubkey>`, bytes 0..36.
pub const MINT_AUTHORITY_OFFSET: usize = 0;
/// [`Mint::supply`]: `u64`, bytes 36..44.
pub const MINT_SUPPLY_OFFSET: usize = 36;
/// [`Mint::decimals`]: `u8`, byte 44.
pub const MINT_DECIMALS_OFFSET: usize = 44;
/// [`Mint::is_initialized`]: `bool` (0 or 1), byte 45.
pub const MINT_IS_INITIALIZED_OFFSET: usize = 45;
/// [`Mint::freeze_authority`]: `COption<Pubkey>`, bytes 46..82.
pub const MINT_FREEZE_AUTHORITY_OFFSET: usize = 46;

/// [`TokenAccount::mint`]: `Pubkey`, bytes 0..32.
pub const ACCOUNT_MINT_OFFSET: usize = 0;
/// [`TokenAccount::owner`]: `Pubkey`, bytes 32..64.
pub const ACCOUNT_OWNER_OFFSET: usize = 32;
/// [`TokenAccount::amount`]: `u64`, bytes 64..72.
pub const ACCOUNT_AMOUNT_OFFSET: usize = 64;
/// [`TokenAccount::delegate`]: `COption<Pubkey>`, bytes 72..108.
pub const ACCOUNT_DELEGATE_OFFSET: usize = 72;
/// [`TokenAccount::state`]: [`AccountState`] as `u8`, byte 108.
pub const ACCOUNT_STATE_OFFSET: usize = 108;
/// [`TokenAccount::is_native`]: `COption<u64>`, bytes 109..121.
pub const ACCOUNT_IS_NATIVE_OFFSET: usize = 109;
/// [`TokenAccount::delegated_amount`]: `u64`, bytes 121..129.
pub const ACCOUNT_DELEGATED_AMOUNT_OFFSET: usize = 121;
/// [`TokenAccount::close_authority`]: `COption<Pubkey>`, bytes 129..165.
pub const ACCOUNT_CLOSE_AUTHORITY_OFFSET: usize = 129;

/// Byte of a packed multisig that says whether it is initialized (after `m` and `n`).
pub const MULTISIG_IS_INITIALIZED_OFFSET: usize = 2;

// The offsets tile the layouts exactly.
const _: () = {
    assert!(MINT_SUPPLY_OFFSET == MINT_AUTHORITY_OFFSET + COPTION_PUBKEY_LEN);
    assert!(MINT_DECIMALS_OFFSET == MINT_SUPPLY_OFFSET + 8);
    assert!(MINT_IS_INITIALIZED_OFFSET == MINT_DECIMALS_OFFSET + 1);
    assert!(MINT_FREEZE_AUTHORITY_OFFSET == MINT_IS_INITIALIZED_OFFSET + 1);
    assert!(MINT_LEN == MINT_FREEZE_AUTHORITY_OFFSET + COPTION_PUBKEY_LEN);
    assert!(ACCOUNT_OWNER_OFFSET == ACCOUNT_MINT_OFFSET + 32);
    assert!(ACCOUNT_AMOUNT_OFFSET == ACCOUNT_OWNER_OFFSET + 32);
    assert!(ACCOUNT_DELEGATE_OFFSET == ACCOUNT_AMOUNT_OFFSET + 8);
    assert!(ACCOUNT_STATE_OFFSET == ACCOUNT_DELEGATE_OFFSET + COPTION_PUBKEY_LEN);
    assert!(ACCOUNT_IS_NATIVE_OFFSET == ACCOUNT_STATE_OFFSET + 1);
    assert!(ACCOUNT_DELEGATED_AMOUNT_OFFSET == ACCOUNT_IS_NATIVE_OFFSET + COPTION_U64_LEN);
    assert!(ACCOUNT_CLOSE_AUTHORITY_OFFSET == ACCOUNT_DELEGATED_AMOUNT_OFFSET + 8);
    assert!(ACCOUNT_LEN == ACCOUNT_CLOSE_AUTHORITY_OFFSET + COPTION_PUBKEY_LEN);
};

const TAG_NONE: [u8; 4] = [0, 0, 0, 0];
const TAG_SOME: [u8; 4] = [1, 0, 0, 0];

/// Why bytes are not a valid packed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnpackError {
    /// The data is not exactly the layout's length.
    #[error("account data is {actual} bytes, expected {expected}")]
    InvalidLength {
        /// The layout's length.
        expected: usize,
        /// The data's length.
        actual: usize,
    },
    /// A `COption` tag is neither `[0, 0, 0, 0]` nor `[1, 0, 0, 0]`.
    #[error("invalid option tag {tag:?} at byte {offset}")]
    InvalidOptionTag {
        /// Where the tag starts.
        offset: usize,
        /// The tag found.
        tag: [u8; 4],
    },
    /// A `bool` byte is neither 0 nor 1.
    #[error("invalid bool {value} at byte {offset}")]
    InvalidBool {
        /// Where the byte is.
        offset: usize,
        /// The byte found.
        value: u8,
    },
    /// The account state byte is not 0, 1 or 2.
    #[error("invalid account state {0}")]
    InvalidAccountState(u8),
    /// The state is valid but not initialized, where an initialized one is required.
    #[error("state is not initialized")]
    Uninitialized,
}

impl From<UnpackError> for InstructionError {
    /// What SPL's `Pack` reports: `UninitializedAccount` for an uninitialized state,
    /// `InvalidAccountData` for everything else.
    fn from(error: UnpackError) -> Self {
        match error {
            UnpackError::Uninitialized => InstructionError::UninitializedAccount,
            _ => InstructionError::InvalidAccountData,
        }
    }
}

/// Reads fixed-width fields front to back; no arithmetic, no indexing, no panics.
struct Reader<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    fn new(src: &'a [u8], expected: usize) -> Result<Self, UnpackError> {
        if src.len() != expected {
            return Err(UnpackError::InvalidLength {
                expected,
                actual: src.len(),
            });
        }
        Ok(Self {
            rest: src,
            offset: 0,
        })
    }

    fn take<const N: usize>(&mut self) -> Result<&'a [u8; N], UnpackError> {
        let (chunk, rest) =
            self.rest
                .split_first_chunk::<N>()
                .ok_or(UnpackError::InvalidLength {
                    expected: N,
                    actual: self.rest.len(),
                })?;
        self.rest = rest;
        self.offset = self.offset.saturating_add(N);
        Ok(chunk)
    }

    fn pubkey(&mut self) -> Result<Pubkey, UnpackError> {
        Ok(Pubkey::new_from_array(*self.take::<32>()?))
    }

    fn u64(&mut self) -> Result<u64, UnpackError> {
        Ok(u64::from_le_bytes(*self.take::<8>()?))
    }

    fn u8(&mut self) -> Result<u8, UnpackError> {
        Ok(self.take::<1>()?[0])
    }

    fn bool(&mut self) -> Result<bool, UnpackError> {
        let offset = self.offset;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(UnpackError::InvalidBool { offset, value }),
        }
    }

    fn tag(&mut self) -> Result<bool, UnpackError> {
        let offset = self.offset;
        match *self.take::<4>()? {
            TAG_NONE => Ok(false),
            TAG_SOME => Ok(true),
            tag => Err(UnpackError::InvalidOptionTag { offset, tag }),
        }
    }

    fn option_pubkey(&mut self) -> Result<Option<Pubkey>, UnpackError> {
        let some = self.tag()?;
        let key = self.pubkey()?;
        Ok(some.then_some(key))
    }

    fn option_u64(&mut self) -> Result<Option<u64>, UnpackError> {
        let some = self.tag()?;
        let value = self.u64()?;
        Ok(some.then_some(value))
    }
}

/// Writes fixed-width fields front to back into an existing buffer.
struct Writer<'a> {
    rest: &'a mut [u8],
}

impl<'a> Writer<'a> {
    fn new(dst: &'a mut [u8], expected: usize) -> Result<Self, UnpackError> {
        if dst.len() != expected {
            return Err(UnpackError::InvalidLength {
                expected,
                actual: dst.len(),
            });
        }
        Ok(Self { rest: dst })
    }

    fn take<const N: usize>(&mut self) -> Result<&'a mut [u8; N], UnpackError> {
        let actual = self.rest.len();
        let (chunk, rest) = std::mem::take(&mut self.rest)
            .split_first_chunk_mut::<N>()
            .ok_or(UnpackError::InvalidLength {
                expected: N,
                actual,
            })?;
        self.rest = rest;
        Ok(chunk)
    }

    fn bytes<const N: usize>(&mut self, bytes: [u8; N]) -> Result<(), UnpackError> {
        *self.take::<N>()? = bytes;
        Ok(())
    }

    fn option_pubkey(&mut self, value: &Option<Pubkey>) -> Result<(), UnpackError> {
        match value {
            Some(key) => {
                self.bytes(TAG_SOME)?;
                self.bytes(key.to_bytes())
            }
            None => {
                // SPL leaves the key bytes as they were.
                self.bytes(TAG_NONE)?;
                self.take::<32>().map(|_| ())
            }
        }
    }

    fn option_u64(&mut self, value: &Option<u64>) -> Result<(), UnpackError> {
        match value {
            Some(value) => {
                self.bytes(TAG_SOME)?;
                self.bytes(value.to_le_bytes())
            }
            None => {
                self.bytes(TAG_NONE)?;
                self.take::<8>().map(|_| ())
            }
        }
    }
}

/// A token type: who may mint, how many exist, how they are displayed, who may freeze.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mint {
    /// Who may mint new tokens; `None` fixes the supply forever.
    pub mint_authority: Option<Pubkey>,
    /// Tokens in existence: always the sum of the balances of the mint's token accounts.
    pub supply: u64,
    /// Digits after the decimal point when displayed.
    pub decimals: u8,
    /// Whether `InitializeMint` has run.
    pub is_initialized: bool,
    /// Who may freeze and thaw the mint's accounts; `None` means no one.
    pub freeze_authority: Option<Pubkey>,
}

impl Mint {
    /// Bytes in the packed layout.
    pub const LEN: usize = MINT_LEN;

    /// Decodes a mint, initialized or not.
    pub fn unpack_unchecked(src: &[u8]) -> Result<Self, UnpackError> {
        let mut reader = Reader::new(src, MINT_LEN)?;
        Ok(Self {
            mint_authority: reader.option_pubkey()?,
            supply: reader.u64()?,
            decimals: reader.u8()?,
            is_initialized: reader.bool()?,
            freeze_authority: reader.option_pubkey()?,
        })
    }

    /// Decodes an initialized mint.
    pub fn unpack(src: &[u8]) -> Result<Self, UnpackError> {
        let mint = Self::unpack_unchecked(src)?;
        if !mint.is_initialized {
            return Err(UnpackError::Uninitialized);
        }
        Ok(mint)
    }

    /// Encodes into an existing 82-byte buffer, leaving the key bytes of `None` options as
    /// they were (SPL's behaviour).
    pub fn pack_into_slice(&self, dst: &mut [u8]) -> Result<(), UnpackError> {
        let mut writer = Writer::new(dst, MINT_LEN)?;
        writer.option_pubkey(&self.mint_authority)?;
        writer.bytes(self.supply.to_le_bytes())?;
        writer.bytes([self.decimals])?;
        writer.bytes([u8::from(self.is_initialized)])?;
        writer.option_pubkey(&self.freeze_authority)
    }

    /// Encodes into a fresh buffer (zeros behind `None` options).
    pub fn pack(&self) -> [u8; MINT_LEN] {
        let mut bytes = [0u8; MINT_LEN];
        // The buffer has exactly the layout's length, so packing cannot fail.
        let _ = self.pack_into_slice(&mut bytes);
        bytes
    }
}

/// Whether a token account may be used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum AccountState {
    /// Not yet initialized.
    #[default]
    Uninitialized = 0,
    /// Usable by its owner and delegate.
    Initialized = 1,
    /// Frozen by the mint's freeze authority: nothing moves in or out.
    Frozen = 2,
}

impl TryFrom<u8> for AccountState {
    type Error = UnpackError;

    fn try_from(value: u8) -> Result<Self, UnpackError> {
        match value {
            0 => Ok(AccountState::Uninitialized),
            1 => Ok(AccountState::Initialized),
            2 => Ok(AccountState::Frozen),
            other => Err(UnpackError::InvalidAccountState(other)),
        }
    }
}

/// A token account: a balance of one mint's tokens held for an owner. (SPL calls this
/// `Account`; renamed so it does not clash with the runtime's [`braid_runtime::Account`].)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenAccount {
    /// The mint whose tokens this account holds.
    pub mint: Pubkey,
    /// Who may transfer, approve, burn and close.
    pub owner: Pubkey,
    /// The balance.
    pub amount: u64,
    /// Who may spend `delegated_amount` of the balance on the owner's behalf.
    pub delegate: Option<Pubkey>,
    /// Uninitialized, initialized or frozen.
    pub state: AccountState,
    /// For wrapped SOL accounts, the rent-exempt reserve. Braid does not create native
    /// accounts; the field is kept for layout compatibility.
    pub is_native: Option<u64>,
    /// How much the delegate may still spend.
    pub delegated_amount: u64,
    /// Who may close the account, if not the owner.
    pub close_authority: Option<Pubkey>,
}

impl TokenAccount {
    /// Bytes in the packed layout.
    pub const LEN: usize = ACCOUNT_LEN;

    /// Decodes an account, initialized or not.
    pub fn unpack_unchecked(src: &[u8]) -> Result<Self, UnpackError> {
        let mut reader = Reader::new(src, ACCOUNT_LEN)?;
        Ok(Self {
            mint: reader.pubkey()?,
            owner: reader.pubkey()?,
            amount: reader.u64()?,
            delegate: reader.option_pubkey()?,
            state: AccountState::try_from(reader.u8()?)?,
            is_native: reader.option_u64()?,
            delegated_amount: reader.u64()?,
            close_authority: reader.option_pubkey()?,
        })
    }

    /// Decodes an initialized (or frozen) account.
    pub fn unpack(src: &[u8]) -> Result<Self, UnpackError> {
        let account = Self::unpack_unchecked(src)?;
        if !account.is_initialized() {
            return Err(UnpackError::Uninitialized);
        }
        Ok(account)
    }

    /// Encodes into an existing 165-byte buffer, leaving the value bytes of `None` options
    /// as they were (SPL's behaviour).
    pub fn pack_into_slice(&self, dst: &mut [u8]) -> Result<(), UnpackError> {
        let mut writer = Writer::new(dst, ACCOUNT_LEN)?;
        writer.bytes(self.mint.to_bytes())?;
        writer.bytes(self.owner.to_bytes())?;
        writer.bytes(self.amount.to_le_bytes())?;
        writer.option_pubkey(&self.delegate)?;
        writer.bytes([self.state as u8])?;
        writer.option_u64(&self.is_native)?;
        writer.bytes(self.delegated_amount.to_le_bytes())?;
        writer.option_pubkey(&self.close_authority)
    }

    /// Encodes into a fresh buffer (zeros behind `None` options).
    pub fn pack(&self) -> [u8; ACCOUNT_LEN] {
        let mut bytes = [0u8; ACCOUNT_LEN];
        // The buffer has exactly the layout's length, so packing cannot fail.
        let _ = self.pack_into_slice(&mut bytes);
        bytes
    }

    /// Whether the account has been initialized (it may be frozen).
    pub fn is_initialized(&self) -> bool {
        self.state != AccountState::Uninitialized
    }

    /// Whether the account is frozen.
    pub fn is_frozen(&self) -> bool {
        self.state == AccountState::Frozen
    }

    /// Whether this is a wrapped SOL account.
    pub fn is_native(&self) -> bool {
        self.is_native.is_some()
    }

    /// Whether the owner is the System program or the incinerator: such accounts' tokens may
    /// be burned, and the accounts closed to the incinerator, by anyone (as in SPL).
    pub fn is_owned_by_system_program_or_incinerator(&self) -> bool {
        self.owner == SYSTEM_PROGRAM_ID || self.owner == INCINERATOR_ID
    }
}

/// The balance of a packed token account (for clients and benchmarks); `None` if the data
/// is not an initialized token account.
pub fn account_amount(data: &[u8]) -> Option<u64> {
    TokenAccount::unpack(data)
        .ok()
        .map(|account| account.amount)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key(byte: u8) -> Pubkey {
        Pubkey::new_from_array([byte; 32])
    }

    /// A mint laid out by hand from SPL's documented layout:
    /// `mint_authority: COption<Pubkey>` (4-byte LE tag + 32), `supply: u64` LE,
    /// `decimals: u8`, `is_initialized: bool`, `freeze_authority: COption<Pubkey>`.
    #[test]
    fn mint_layout_is_spls() {
        let mint = Mint {
            mint_authority: Some(key(0xAA)),
            supply: 0x0102_0304_0506_0708,
            decimals: 9,
            is_initialized: true,
            freeze_authority: None,
        };
        let mut expected = Vec::new();
        expected.extend_from_slice(&[1, 0, 0, 0]); // 0..4: tag Some
        expected.extend_from_slice(&[0xAA; 32]); // 4..36: mint authority
        expected.extend_from_slice(&[8, 7, 6, 5, 4, 3, 2, 1]); // 36..44: supply, LE
        expected.push(9); // 44: decimals
        expected.push(1); // 45: is_initialized
        expected.extend_from_slice(&[0, 0, 0, 0]); // 46..50: tag None
        expected.extend_from_slice(&[0; 32]); // 50..82: zeros behind None
        assert_eq!(expected.len(), MINT_LEN);
        assert_eq!(mint.pack().as_slice(), expected.as_slice());
        assert_eq!(Mint::unpack(&expected), Ok(mint));
    }

    /// A token account laid out by hand: `mint` 32, `owner` 32, `amount` u64 LE,
    /// `delegate` COption<Pubkey> 36, `state` u8, `is_native` COption<u64> 12,
    /// `delegated_amount` u64 LE, `close_authority` COption<Pubkey> 36.
    #[test]
    fn account_layout_is_spls() {
        let account = TokenAccount {
            mint: key(1),
            owner: key(2),
            amount: 1_000,
            delegate: Some(key(3)),
            state: AccountState::Frozen,
            is_native: Some(0x0A0B),
            delegated_amount: 7,
            close_authority: None,
        };
        let mut expected = Vec::new();
        expected.extend_from_slice(&[1; 32]); // 0..32: mint
        expected.extend_from_slice(&[2; 32]); // 32..64: owner
        expected.extend_from_slice(&[0xE8, 0x03, 0, 0, 0, 0, 0, 0]); // 64..72: 1000 LE
        expected.extend_from_slice(&[1, 0, 0, 0]); // 72..76: delegate tag Some
        expected.extend_from_slice(&[3; 32]); // 76..108: delegate
        expected.push(2); // 108: state Frozen
        expected.extend_from_slice(&[1, 0, 0, 0, 0x0B, 0x0A, 0, 0, 0, 0, 0, 0]); // 109..121
        expected.extend_from_slice(&[7, 0, 0, 0, 0, 0, 0, 0]); // 121..129: delegated_amount
        expected.extend_from_slice(&[0; 36]); // 129..165: close authority None
        assert_eq!(expected.len(), ACCOUNT_LEN);
        assert_eq!(account.pack().as_slice(), expected.as_slice());
        assert_eq!(TokenAccount::unpack(&expected), Ok(account));
        assert_eq!(account_amount(&expected), Some(1_000));
        assert_eq!(expected[ACCOUNT_STATE_OFFSET], 2);
        assert_eq!(expected[ACCOUNT_AMOUNT_OFFSET], 0xE8);
    }

    #[test]
    fn none_leaves_old_key_bytes_in_place() {
        let mut account = TokenAccount {
            mint: key(1),
            owner: key(2),
            amount: 5,
            delegate: Some(key(3)),
            state: AccountState::Initialized,
            ..TokenAccount::default()
        };
        let mut bytes = account.pack();
        account.delegate = None;
        account.pack_into_slice(&mut bytes).unwrap();
        // 72..76: tag None; 76..108: the revoked delegate's key, untouched.
        assert_eq!(&bytes[72..76], &[0, 0, 0, 0]);
        assert_eq!(&bytes[76..108], &[3; 32]);
        assert_eq!(TokenAccount::unpack(&bytes).unwrap().delegate, None);
    }

    #[test]
    fn malformed_mints_are_typed_errors() {
        let good = Mint {
            is_initialized: true,
            ..Mint::default()
        }
        .pack();
        assert_eq!(
            Mint::unpack(&good[..81]),
            Err(UnpackError::InvalidLength {
                expected: 82,
                actual: 81
            })
        );
        assert_eq!(
            Mint::unpack(&[]),
            Err(UnpackError::InvalidLength {
                expected: 82,
                actual: 0
            })
        );
        let mut long = good.to_vec();
        long.push(0);
        assert_eq!(
            Mint::unpack(&long),
            Err(UnpackError::InvalidLength {
                expected: 82,
                actual: 83
            })
        );

        let mut bad = good;
        bad[MINT_AUTHORITY_OFFSET] = 2;
        assert_eq!(
            Mint::unpack(&bad),
            Err(UnpackError::InvalidOptionTag {
                offset: 0,
                tag: [2, 0, 0, 0]
            })
        );
        let mut bad = good;
        bad[MINT_AUTHORITY_OFFSET + 3] = 1;
        assert_eq!(
            Mint::unpack(&bad),
            Err(UnpackError::InvalidOptionTag {
                offset: 0,
                tag: [0, 0, 0, 1]
            })
        );
        let mut bad = good;
        bad[MINT_FREEZE_AUTHORITY_OFFSET + 1] = 1;
        assert_eq!(
            Mint::unpack(&bad),
            Err(UnpackError::InvalidOptionTag {
                offset: 46,
                tag: [0, 1, 0, 0]
            })
        );
        let mut bad = good;
        bad[MINT_IS_INITIALIZED_OFFSET] = 2;
        assert_eq!(
            Mint::unpack(&bad),
            Err(UnpackError::InvalidBool {
                offset: 45,
                value: 2
            })
        );

        assert_eq!(
            Mint::unpack(&[0; MINT_LEN]),
            Err(UnpackError::Uninitialized)
        );
        assert_eq!(Mint::unpack_unchecked(&[0; MINT_LEN]), Ok(Mint::default()));
        assert_eq!(
            InstructionError::from(UnpackError::Uninitialized),
            InstructionError::UninitializedAccount
        );
        assert_eq!(
            InstructionError::from(UnpackError::InvalidBool {
                offset: 45,
                value: 2
            }),
            InstructionError::InvalidAccountData
        );
    }

    #[test]
    fn malformed_accounts_are_typed_errors() {
        let good = TokenAccount {
            state: AccountState::Initialized,
            ..TokenAccount::default()
        }
        .pack();
        assert_eq!(
            TokenAccount::unpack(&good[..164]),
            Err(UnpackError::InvalidLength {
                expected: 165,
                actual: 164
            })
        );
        let mut bad = good;
        bad[ACCOUNT_STATE_OFFSET] = 3;
        assert_eq!(
            TokenAccount::unpack(&bad),
            Err(UnpackError::InvalidAccountState(3))
        );
        let mut bad = good;
        bad[ACCOUNT_DELEGATE_OFFSET] = 0xFF;
        assert_eq!(
            TokenAccount::unpack(&bad),
            Err(UnpackError::InvalidOptionTag {
                offset: 72,
                tag: [0xFF, 0, 0, 0]
            })
        );
        let mut bad = good;
        bad[ACCOUNT_IS_NATIVE_OFFSET + 2] = 1;
        assert_eq!(
            TokenAccount::unpack(&bad),
            Err(UnpackError::InvalidOptionTag {
                offset: 109,
                tag: [0, 0, 1, 0]
            })
        );
        let mut bad = good;
        bad[ACCOUNT_CLOSE_AUTHORITY_OFFSET] = 2;
        assert_eq!(
            TokenAccount::unpack(&bad),
            Err(UnpackError::InvalidOptionTag {
                offset: 129,
                tag: [2, 0, 0, 0]
            })
        );
        assert_eq!(
            TokenAccount::unpack(&[0; ACCOUNT_LEN]),
            Err(UnpackError::Uninitialized)
        );
        assert_eq!(account_amount(&[0; ACCOUNT_LEN]), None);
        // A mint is not an account, nor the reverse.
        assert!(TokenAccount::unpack(&Mint::default().pack()).is_err());
        assert!(Mint::unpack(&good).is_err());
        // Packing into a buffer of the wrong size is an error, not a panic.
        assert_eq!(
            TokenAccount::default().pack_into_slice(&mut [0; 10]),
            Err(UnpackError::InvalidLength {
                expected: 165,
                actual: 10
            })
        );
        assert_eq!(
            Mint::default().pack_into_slice(&mut [0; 165]),
            Err(UnpackError::InvalidLength {
                expected: 82,
                actual: 165
            })
        );
    }

    fn any_key() -> impl Strategy<Value = Pubkey> {
        any::<[u8; 32]>().prop_map(Pubkey::new_from_array)
    }

    fn any_state() -> impl Strategy<Value = AccountState> {
        prop_oneof![
            Just(AccountState::Uninitialized),
            Just(AccountState::Initialized),
            Just(AccountState::Frozen)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn unpack_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Mint::unpack(&bytes);
            let _ = TokenAccount::unpack(&bytes);
            let _ = account_amount(&bytes);
        }

        #[test]
        fn unpack_of_right_length_never_panics_and_repacks(
            mut mint_bytes in proptest::collection::vec(any::<u8>(), MINT_LEN),
            mut account_bytes in proptest::collection::vec(any::<u8>(), ACCOUNT_LEN),
            tags in any::<[bool; 5]>(),
            flag in 0u8..4,
            state in 0u8..4,
        ) {
            // Random bytes almost never hold valid tags: plant valid (or, for `flag` and
            // `state` = 3, invalid) tags and flags among the random bytes, so both the decode
            // and the error paths run.
            let tag = |some: bool| if some { TAG_SOME } else { TAG_NONE };
            mint_bytes[MINT_AUTHORITY_OFFSET..MINT_SUPPLY_OFFSET][..4].copy_from_slice(&tag(tags[0]));
            mint_bytes[MINT_FREEZE_AUTHORITY_OFFSET..][..4].copy_from_slice(&tag(tags[1]));
            mint_bytes[MINT_IS_INITIALIZED_OFFSET] = flag.min(2);
            account_bytes[ACCOUNT_DELEGATE_OFFSET..][..4].copy_from_slice(&tag(tags[2]));
            account_bytes[ACCOUNT_IS_NATIVE_OFFSET..][..4].copy_from_slice(&tag(tags[3]));
            account_bytes[ACCOUNT_CLOSE_AUTHORITY_OFFSET..][..4].copy_from_slice(&tag(tags[4]));
            account_bytes[ACCOUNT_STATE_OFFSET] = state;
            prop_assert_eq!(Mint::unpack_unchecked(&mint_bytes).is_ok(), flag < 2);
            prop_assert_eq!(TokenAccount::unpack_unchecked(&account_bytes).is_ok(), state < 3);
            // Whatever decodes re-encodes to the same bytes when packed over the original.
            if let Ok(mint) = Mint::unpack_unchecked(&mint_bytes) {
                let mut repacked = mint_bytes.clone();
                mint.pack_into_slice(&mut repacked).unwrap();
                prop_assert_eq!(repacked, mint_bytes);
            }
            if let Ok(account) = TokenAccount::unpack_unchecked(&account_bytes) {
                let mut repacked = account_bytes.clone();
                account.pack_into_slice(&mut repacked).unwrap();
                prop_assert_eq!(repacked, account_bytes);
            }
        }

        #[test]
        fn mint_round_trips(
            mint_authority in proptest::option::of(any_key()),
            supply in any::<u64>(),
            decimals in any::<u8>(),
            is_initialized in any::<bool>(),
            freeze_authority in proptest::option::of(any_key()),
        ) {
            let mint = Mint { mint_authority, supply, decimals, is_initialized, freeze_authority };
            prop_assert_eq!(Mint::unpack_unchecked(&mint.pack()), Ok(mint));
        }

        #[test]
        fn account_round_trips(
            mint in any_key(),
            owner in any_key(),
            amount in any::<u64>(),
            delegate in proptest::option::of(any_key()),
            state in any_state(),
            is_native in proptest::option::of(any::<u64>()),
            delegated_amount in any::<u64>(),
            close_authority in proptest::option::of(any_key()),
        ) {
            let account = TokenAccount {
                mint, owner, amount, delegate, state, is_native, delegated_amount, close_authority,
            };
            prop_assert_eq!(TokenAccount::unpack_unchecked(&account.pack()), Ok(account));
        }
    }
}
