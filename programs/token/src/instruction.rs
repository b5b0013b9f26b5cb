//! SPL Token's instructions: the [`TokenInstruction`] enum with SPL's tags and packed encoding,
//! and client-side builders that list every account with SPL's signer and writable flags.
//!
//! Encoding: one tag byte, then the fields in order, little-endian, no padding. A `u64` is 8
//! bytes, a key 32, and an optional key (`COption<Pubkey>` in SPL's instruction encoding) is a
//! **one**-byte tag — 0 for none, 1 followed by the key for some — unlike the 4-byte tags of the
//! account layouts. As in SPL, bytes after the last field are ignored, and anything else that
//! does not decode is [`TokenError::InvalidInstruction`] (which the processor reports as
//! [`InstructionError::InvalidInstructionData`](braid_runtime::InstructionError)).
//!
//! The enum covers every SPL Token instruction so any SPL client's bytes decode; see the crate
//! documentation for the few the processor does not support. The builders cover the supported
//! ones and, unlike SPL's, take a single signing authority (no multisig) and cannot fail.

use braid_runtime::{AccountMeta, Instruction, Pubkey};

use crate::{ID, RENT_SYSVAR_ID, TokenError};

/// Which authority [`TokenInstruction::SetAuthority`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum AuthorityType {
    /// A mint's mint authority.
    MintTokens = 0,
    /// A mint's freeze authority.
    FreezeAccount = 1,
    /// A token account's owner.
    AccountOwner = 2,
    /// A token account's close authority.
    CloseAccount = 3,
}

impl TryFrom<u8> for AuthorityType {
    type Error = TokenError;

    fn try_from(value: u8) -> Result<Self, TokenError> {
        match value {
            0 => Ok(AuthorityType::MintTokens),
            1 => Ok(AuthorityType::FreezeAccount),
            2 => Ok(AuthorityType::AccountOwner),
            3 => Ok(AuthorityType::CloseAccount),
            _ => Err(TokenError::InvalidInstruction),
        }
    }
}

/// An SPL Token instruction. The doc of each variant gives its tag, its data after the tag,
/// and its accounts as `[flags] name` (`w` writable, `s` signer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenInstruction {
    /// Tag 0, data `decimals: u8, mint_authority: [u8; 32], freeze_authority: option`.
    /// Accounts: `[w] mint`, `[] rent sysvar`.
    InitializeMint {
        /// Digits after the decimal point.
        decimals: u8,
        /// Who may mint.
        mint_authority: Pubkey,
        /// Who may freeze accounts, if anyone.
        freeze_authority: Option<Pubkey>,
    },
    /// Tag 1. Accounts: `[w] account`, `[] mint`, `[] owner`, `[] rent sysvar`.
    InitializeAccount,
    /// Tag 2, data `m: u8`. Not supported.
    InitializeMultisig {
        /// Signatures required.
        m: u8,
    },
    /// Tag 3, data `amount: u64`. Accounts: `[w] source`, `[w] destination`,
    /// `[s] owner or delegate`.
    Transfer {
        /// Tokens to move.
        amount: u64,
    },
    /// Tag 4, data `amount: u64`. Accounts: `[w] source`, `[] delegate`, `[s] owner`.
    Approve {
        /// Tokens the delegate may spend.
        amount: u64,
    },
    /// Tag 5. Accounts: `[w] source`, `[s] owner`.
    Revoke,
    /// Tag 6, data `authority_type: u8, new_authority: option`. Accounts: `[w] mint or
    /// account`, `[s] current authority`.
    SetAuthority {
        /// Which authority.
        authority_type: AuthorityType,
        /// The new authority, or none to remove it.
        new_authority: Option<Pubkey>,
    },
    /// Tag 7, data `amount: u64`. Accounts: `[w] mint`, `[w] destination`, `[s] mint authority`.
    MintTo {
        /// Tokens to create.
        amount: u64,
    },
    /// Tag 8, data `amount: u64`. Accounts: `[w] account`, `[w] mint`, `[s] owner or delegate`.
    Burn {
        /// Tokens to destroy.
        amount: u64,
    },
    /// Tag 9. Accounts: `[w] account`, `[w] destination`, `[s] owner or close authority`.
    CloseAccount,
    /// Tag 10. Accounts: `[w] account`, `[] mint`, `[s] freeze authority`.
    FreezeAccount,
    /// Tag 11. Accounts: `[w] account`, `[] mint`, `[s] freeze authority`.
    ThawAccount,
    /// Tag 12, data `amount: u64, decimals: u8`. Accounts: `[w] source`, `[] mint`,
    /// `[w] destination`, `[s] owner or delegate`.
    TransferChecked {
        /// Tokens to move.
        amount: u64,
        /// The mint's decimals, as the client believes them.
        decimals: u8,
    },
    /// Tag 13, data `amount: u64, decimals: u8`. Accounts: `[w] source`, `[] mint`,
    /// `[] delegate`, `[s] owner`.
    ApproveChecked {
        /// Tokens the delegate may spend.
        amount: u64,
        /// The mint's decimals.
        decimals: u8,
    },
    /// Tag 14, data `amount: u64, decimals: u8`. Accounts as [`TokenInstruction::MintTo`].
    MintToChecked {
        /// Tokens to create.
        amount: u64,
        /// The mint's decimals.
        decimals: u8,
    },
    /// Tag 15, data `amount: u64, decimals: u8`. Accounts as [`TokenInstruction::Burn`].
    BurnChecked {
        /// Tokens to destroy.
        amount: u64,
        /// The mint's decimals.
        decimals: u8,
    },
    /// Tag 16, data `owner: [u8; 32]`. Accounts: `[w] account`, `[] mint`, `[] rent sysvar`.
    InitializeAccount2 {
        /// The new account's owner.
        owner: Pubkey,
    },
    /// Tag 17. Accounts: `[w] native account`. Braid has no native (wrapped SOL) accounts,
    /// so this always fails.
    SyncNative,
    /// Tag 18, data `owner: [u8; 32]`. Accounts: `[w] account`, `[] mint`.
    InitializeAccount3 {
        /// The new account's owner.
        owner: Pubkey,
    },
    /// Tag 19, data `m: u8`. Not supported.
    InitializeMultisig2 {
        /// Signatures required.
        m: u8,
    },
    /// Tag 20, data as [`TokenInstruction::InitializeMint`]. Accounts: `[w] mint`.
    InitializeMint2 {
        /// Digits after the decimal point.
        decimals: u8,
        /// Who may mint.
        mint_authority: Pubkey,
        /// Who may freeze accounts, if anyone.
        freeze_authority: Option<Pubkey>,
    },
    /// Tag 21. Not supported (Braid has no return data).
    GetAccountDataSize,
    /// Tag 22. Accounts: `[w] account`. A no-op on an uninitialized account, as in SPL Token.
    InitializeImmutableOwner,
    /// Tag 23, data `amount: u64`. Not supported (Braid has no return data).
    AmountToUiAmount {
        /// The amount to format.
        amount: u64,
    },
    /// Tag 24, data: UTF-8 text to the end. Not supported (Braid has no return data).
    UiAmountToAmount {
        /// The text to parse.
        ui_amount: String,
    },
}

/// Splits decoded fields off the front of instruction data.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn u8(&mut self) -> Result<u8, TokenError> {
        let (&byte, rest) = self.0.split_first().ok_or(TokenError::InvalidInstruction)?;
        self.0 = rest;
        Ok(byte)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], TokenError> {
        let (chunk, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(TokenError::InvalidInstruction)?;
        self.0 = rest;
        Ok(*chunk)
    }

    fn u64(&mut self) -> Result<u64, TokenError> {
        self.array::<8>().map(u64::from_le_bytes)
    }

    fn pubkey(&mut self) -> Result<Pubkey, TokenError> {
        self.array::<32>().map(Pubkey::new_from_array)
    }

    fn option_pubkey(&mut self) -> Result<Option<Pubkey>, TokenError> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.pubkey().map(Some),
            _ => Err(TokenError::InvalidInstruction),
        }
    }
}

fn push_option_pubkey(buf: &mut Vec<u8>, key: &Option<Pubkey>) {
    match key {
        Some(key) => {
            buf.push(1);
            buf.extend_from_slice(key.as_ref());
        }
        None => buf.push(0),
    }
}

fn push_amount_decimals(buf: &mut Vec<u8>, amount: u64, decimals: u8) {
    buf.extend_from_slice(&amount.to_le_bytes());
    buf.push(decimals);
}

impl TokenInstruction {
    /// Decodes instruction data. Trailing bytes are ignored, as in SPL.
    pub fn unpack(data: &[u8]) -> Result<Self, TokenError> {
        let mut input = Input(data);
        let tag = input.u8()?;
        Ok(match tag {
            0 | 20 => {
                let decimals = input.u8()?;
                let mint_authority = input.pubkey()?;
                let freeze_authority = input.option_pubkey()?;
                if tag == 0 {
                    Self::InitializeMint {
                        decimals,
                        mint_authority,
                        freeze_authority,
                    }
                } else {
                    Self::InitializeMint2 {
                        decimals,
                        mint_authority,
                        freeze_authority,
                    }
                }
            }
            1 => Self::InitializeAccount,
            2 => Self::InitializeMultisig { m: input.u8()? },
            3 => Self::Transfer {
                amount: input.u64()?,
            },
            4 => Self::Approve {
                amount: input.u64()?,
            },
            5 => Self::Revoke,
            6 => {
                let authority_type = AuthorityType::try_from(input.u8()?)?;
                let new_authority = input.option_pubkey()?;
                Self::SetAuthority {
                    authority_type,
                    new_authority,
                }
            }
            7 => Self::MintTo {
                amount: input.u64()?,
            },
            8 => Self::Burn {
                amount: input.u64()?,
            },
            9 => Self::CloseAccount,
            10 => Self::FreezeAccount,
            11 => Self::ThawAccount,
            12..=15 => {
                let amount = input.u64()?;
                let decimals = input.u8()?;
                match tag {
                    12 => Self::TransferChecked { amount, decimals },
                    13 => Self::ApproveChecked { amount, decimals },
                    14 => Self::MintToChecked { amount, decimals },
                    _ => Self::BurnChecked { amount, decimals },
                }
            }
            16 => Self::InitializeAccount2 {
                owner: input.pubkey()?,
            },
            17 => Self::SyncNative,
            18 => Self::InitializeAccount3 {
                owner: input.pubkey()?,
            },
            19 => Self::InitializeMultisig2 { m: input.u8()? },
            21 => Self::GetAccountDataSize,
            22 => Self::InitializeImmutableOwner,
            23 => Self::AmountToUiAmount {
                amount: input.u64()?,
            },
            24 => {
                let text =
                    std::str::from_utf8(input.0).map_err(|_| TokenError::InvalidInstruction)?;
                Self::UiAmountToAmount {
                    ui_amount: text.to_owned(),
                }
            }
            _ => return Err(TokenError::InvalidInstruction),
        })
    }

    /// The instruction's tag byte.
    pub fn tag(&self) -> u8 {
        match self {
            Self::InitializeMint { .. } => 0,
            Self::InitializeAccount => 1,
            Self::InitializeMultisig { .. } => 2,
            Self::Transfer { .. } => 3,
            Self::Approve { .. } => 4,
            Self::Revoke => 5,
            Self::SetAuthority { .. } => 6,
            Self::MintTo { .. } => 7,
            Self::Burn { .. } => 8,
            Self::CloseAccount => 9,
            Self::FreezeAccount => 10,
            Self::ThawAccount => 11,
            Self::TransferChecked { .. } => 12,
            Self::ApproveChecked { .. } => 13,
            Self::MintToChecked { .. } => 14,
            Self::BurnChecked { .. } => 15,
            Self::InitializeAccount2 { .. } => 16,
            Self::SyncNative => 17,
            Self::InitializeAccount3 { .. } => 18,
            Self::InitializeMultisig2 { .. } => 19,
            Self::InitializeMint2 { .. } => 20,
            Self::GetAccountDataSize => 21,
            Self::InitializeImmutableOwner => 22,
            Self::AmountToUiAmount { .. } => 23,
            Self::UiAmountToAmount { .. } => 24,
        }
    }

    /// The instruction's name, as SPL logs it (`Instruction: <name>`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::InitializeMint { .. } => "InitializeMint",
            Self::InitializeAccount => "InitializeAccount",
            Self::InitializeMultisig { .. } => "InitializeMultisig",
            Self::Transfer { .. } => "Transfer",
            Self::Approve { .. } => "Approve",
            Self::Revoke => "Revoke",
            Self::SetAuthority { .. } => "SetAuthority",
            Self::MintTo { .. } => "MintTo",
            Self::Burn { .. } => "Burn",
            Self::CloseAccount => "CloseAccount",
            Self::FreezeAccount => "FreezeAccount",
            Self::ThawAccount => "ThawAccount",
            Self::TransferChecked { .. } => "TransferChecked",
            Self::ApproveChecked { .. } => "ApproveChecked",
            Self::MintToChecked { .. } => "MintToChecked",
            Self::BurnChecked { .. } => "BurnChecked",
            Self::InitializeAccount2 { .. } => "InitializeAccount2",
            Self::SyncNative => "SyncNative",
            Self::InitializeAccount3 { .. } => "InitializeAccount3",
            Self::InitializeMultisig2 { .. } => "InitializeMultisig2",
            Self::InitializeMint2 { .. } => "InitializeMint2",
            Self::GetAccountDataSize => "GetAccountDataSize",
            Self::InitializeImmutableOwner => "InitializeImmutableOwner",
            Self::AmountToUiAmount { .. } => "AmountToUiAmount",
            Self::UiAmountToAmount { .. } => "UiAmountToAmount",
        }
    }

    /// Encodes the instruction as SPL does.
    pub fn pack(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(67);
        buf.push(self.tag());
        match self {
            Self::InitializeMint {
                decimals,
                mint_authority,
                freeze_authority,
            }
            | Self::InitializeMint2 {
                decimals,
                mint_authority,
                freeze_authority,
            } => {
                buf.push(*decimals);
                buf.extend_from_slice(mint_authority.as_ref());
                push_option_pubkey(&mut buf, freeze_authority);
            }
            Self::InitializeMultisig { m } | Self::InitializeMultisig2 { m } => buf.push(*m),
            Self::Transfer { amount }
            | Self::Approve { amount }
            | Self::MintTo { amount }
            | Self::Burn { amount }
            | Self::AmountToUiAmount { amount } => buf.extend_from_slice(&amount.to_le_bytes()),
            Self::SetAuthority {
                authority_type,
                new_authority,
            } => {
                buf.push(*authority_type as u8);
                push_option_pubkey(&mut buf, new_authority);
            }
            Self::TransferChecked { amount, decimals }
            | Self::ApproveChecked { amount, decimals }
            | Self::MintToChecked { amount, decimals }
            | Self::BurnChecked { amount, decimals } => {
                push_amount_decimals(&mut buf, *amount, *decimals)
            }
            Self::InitializeAccount2 { owner } | Self::InitializeAccount3 { owner } => {
                buf.extend_from_slice(owner.as_ref());
            }
            Self::UiAmountToAmount { ui_amount } => buf.extend_from_slice(ui_amount.as_bytes()),
            Self::InitializeAccount
            | Self::Revoke
            | Self::CloseAccount
            | Self::FreezeAccount
            | Self::ThawAccount
            | Self::SyncNative
            | Self::GetAccountDataSize
            | Self::InitializeImmutableOwner => {}
        }
        buf
    }
}

fn token_instruction(instruction: &TokenInstruction, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction {
        program_id: ID,
        accounts,
        data: instruction.pack(),
    }
}

/// `InitializeMint`: makes `mint` a mint (it must be an 82-byte token-owned account). The
/// rent sysvar is listed, as SPL requires, but Braid has no rent.
pub fn initialize_mint(
    mint: &Pubkey,
    mint_authority: &Pubkey,
    freeze_authority: Option<&Pubkey>,
    decimals: u8,
) -> Instruction {
    let data = TokenInstruction::InitializeMint {
        decimals,
        mint_authority: *mint_authority,
        freeze_authority: freeze_authority.copied(),
    };
    token_instruction(
        &data,
        vec![
            AccountMeta::new(*mint, false),
            AccountMeta::new_readonly(RENT_SYSVAR_ID, false),
        ],
    )
}

/// `InitializeMint2`: as [`initialize_mint`] without the rent sysvar.
pub fn initialize_mint2(
    mint: &Pubkey,
    mint_authority: &Pubkey,
    freeze_authority: Option<&Pubkey>,
    decimals: u8,
) -> Instruction {
    let data = TokenInstruction::InitializeMint2 {
        decimals,
        mint_authority: *mint_authority,
        freeze_authority: freeze_authority.copied(),
    };
    token_instruction(&data, vec![AccountMeta::new(*mint, false)])
}

/// `InitializeAccount`: makes `account` (a 165-byte token-owned account) hold `mint` for
/// `owner`.
pub fn initialize_account(account: &Pubkey, mint: &Pubkey, owner: &Pubkey) -> Instruction {
    token_instruction(
        &TokenInstruction::InitializeAccount,
        vec![
            AccountMeta::new(*account, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(*owner, false),
            AccountMeta::new_readonly(RENT_SYSVAR_ID, false),
        ],
    )
}

/// `InitializeAccount2`: as [`initialize_account`] with the owner in the data.
pub fn initialize_account2(account: &Pubkey, mint: &Pubkey, owner: &Pubkey) -> Instruction {
    token_instruction(
        &TokenInstruction::InitializeAccount2 { owner: *owner },
        vec![
            AccountMeta::new(*account, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(RENT_SYSVAR_ID, false),
        ],
    )
}

/// `InitializeAccount3`: as [`initialize_account2`] without the rent sysvar.
pub fn initialize_account3(account: &Pubkey, mint: &Pubkey, owner: &Pubkey) -> Instruction {
    token_instruction(
        &TokenInstruction::InitializeAccount3 { owner: *owner },
        vec![
            AccountMeta::new(*account, false),
            AccountMeta::new_readonly(*mint, false),
        ],
    )
}

/// `Transfer`: moves `amount` from `source` to `destination`; `authority` is the source's
/// owner or delegate and signs.
pub fn transfer(
    source: &Pubkey,
    destination: &Pubkey,
    authority: &Pubkey,
    amount: u64,
) -> Instruction {
    token_instruction(
        &TokenInstruction::Transfer { amount },
        vec![
            AccountMeta::new(*source, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

/// `TransferChecked`: [`transfer`] that also checks the mint and its decimals.
pub fn transfer_checked(
    source: &Pubkey,
    mint: &Pubkey,
    destination: &Pubkey,
    authority: &Pubkey,
    amount: u64,
    decimals: u8,
) -> Instruction {
    token_instruction(
        &TokenInstruction::TransferChecked { amount, decimals },
        vec![
            AccountMeta::new(*source, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

/// `Approve`: lets `delegate` spend up to `amount` of `source`; `owner` signs.
pub fn approve(source: &Pubkey, delegate: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    token_instruction(
        &TokenInstruction::Approve { amount },
        vec![
            AccountMeta::new(*source, false),
            AccountMeta::new_readonly(*delegate, false),
            AccountMeta::new_readonly(*owner, true),
        ],
    )
}

/// `ApproveChecked`: [`approve`] that also checks the mint and its decimals.
pub fn approve_checked(
    source: &Pubkey,
    mint: &Pubkey,
    delegate: &Pubkey,
    owner: &Pubkey,
    amount: u64,
    decimals: u8,
) -> Instruction {
    token_instruction(
        &TokenInstruction::ApproveChecked { amount, decimals },
        vec![
            AccountMeta::new(*source, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(*delegate, false),
            AccountMeta::new_readonly(*owner, true),
        ],
    )
}

/// `Revoke`: removes `source`'s delegate; `owner` signs.
pub fn revoke(source: &Pubkey, owner: &Pubkey) -> Instruction {
    token_instruction(
        &TokenInstruction::Revoke,
        vec![
            AccountMeta::new(*source, false),
            AccountMeta::new_readonly(*owner, true),
        ],
    )
}

/// `SetAuthority`: replaces (or removes) one authority of a mint or account; the current
/// authority signs.
pub fn set_authority(
    owned: &Pubkey,
    new_authority: Option<&Pubkey>,
    authority_type: AuthorityType,
    current_authority: &Pubkey,
) -> Instruction {
    token_instruction(
        &TokenInstruction::SetAuthority {
            authority_type,
            new_authority: new_authority.copied(),
        },
        vec![
            AccountMeta::new(*owned, false),
            AccountMeta::new_readonly(*current_authority, true),
        ],
    )
}

/// `MintTo`: creates `amount` tokens in `destination`; the mint authority signs.
pub fn mint_to(
    mint: &Pubkey,
    destination: &Pubkey,
    authority: &Pubkey,
    amount: u64,
) -> Instruction {
    token_instruction(
        &TokenInstruction::MintTo { amount },
        vec![
            AccountMeta::new(*mint, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

/// `MintToChecked`: [`mint_to`] that also checks the mint's decimals.
pub fn mint_to_checked(
    mint: &Pubkey,
    destination: &Pubkey,
    authority: &Pubkey,
    amount: u64,
    decimals: u8,
) -> Instruction {
    token_instruction(
        &TokenInstruction::MintToChecked { amount, decimals },
        vec![
            AccountMeta::new(*mint, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

/// `Burn`: destroys `amount` tokens of `account`; its owner or delegate signs.
pub fn burn(account: &Pubkey, mint: &Pubkey, authority: &Pubkey, amount: u64) -> Instruction {
    token_instruction(
        &TokenInstruction::Burn { amount },
        vec![
            AccountMeta::new(*account, false),
            AccountMeta::new(*mint, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

/// `BurnChecked`: [`burn`] that also checks the mint's decimals.
pub fn burn_checked(
    account: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    amount: u64,
    decimals: u8,
) -> Instruction {
    token_instruction(
        &TokenInstruction::BurnChecked { amount, decimals },
        vec![
            AccountMeta::new(*account, false),
            AccountMeta::new(*mint, false),
            AccountMeta::new_readonly(*authority, true),
        ],
    )
}

/// `CloseAccount`: deletes an empty `account`, sending its lamports to `destination`; its
/// owner (or close authority) signs.
pub fn close_account(account: &Pubkey, destination: &Pubkey, owner: &Pubkey) -> Instruction {
    token_instruction(
        &TokenInstruction::CloseAccount,
        vec![
            AccountMeta::new(*account, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(*owner, true),
        ],
    )
}

/// `FreezeAccount`: freezes `account`; the mint's freeze authority signs.
pub fn freeze_account(account: &Pubkey, mint: &Pubkey, freeze_authority: &Pubkey) -> Instruction {
    token_instruction(
        &TokenInstruction::FreezeAccount,
        vec![
            AccountMeta::new(*account, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(*freeze_authority, true),
        ],
    )
}

/// `ThawAccount`: thaws a frozen `account`; the mint's freeze authority signs.
pub fn thaw_account(account: &Pubkey, mint: &Pubkey, freeze_authority: &Pubkey) -> Instruction {
    token_instruction(
        &TokenInstruction::ThawAccount,
        vec![
            AccountMeta::new(*account, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(*freeze_authority, true),
        ],
    )
}

/// `InitializeImmutableOwner`: accepted on an uninitialized account and otherwise a no-op,
/// as in SPL Token (owners are immutable only in Token-2022).
pub fn initialize_immutable_owner(account: &Pubkey) -> Instruction {
    token_instruction(
        &TokenInstruction::InitializeImmutableOwner,
        vec![AccountMeta::new(*account, false)],
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key(byte: u8) -> Pubkey {
        Pubkey::new_from_array([byte; 32])
    }

    fn concat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    /// Every instruction against bytes written out by hand from SPL's layout: tag byte, then
    /// fields in order; u64 little-endian; optional keys with a one-byte tag (0 none, 1 some).
    #[test]
    fn encodings_are_spls() {
        // 1000 = 0x03E8, little-endian.
        let amount: &[u8] = &[0xE8, 0x03, 0, 0, 0, 0, 0, 0];
        let cases: Vec<(TokenInstruction, Vec<u8>)> = vec![
            // tag 0, decimals 6, authority, freeze tag 0 (none): 1 + 1 + 32 + 1 = 35 bytes.
            (
                TokenInstruction::InitializeMint {
                    decimals: 6,
                    mint_authority: key(7),
                    freeze_authority: None,
                },
                concat(&[&[0, 6], &[7; 32], &[0]]),
            ),
            // With a freeze authority: tag 1 and the key, 67 bytes.
            (
                TokenInstruction::InitializeMint {
                    decimals: 9,
                    mint_authority: key(7),
                    freeze_authority: Some(key(8)),
                },
                concat(&[&[0, 9], &[7; 32], &[1], &[8; 32]]),
            ),
            (TokenInstruction::InitializeAccount, vec![1]),
            (TokenInstruction::InitializeMultisig { m: 2 }, vec![2, 2]),
            (
                TokenInstruction::Transfer { amount: 1000 },
                concat(&[&[3], amount]),
            ),
            (
                TokenInstruction::Approve { amount: 1000 },
                concat(&[&[4], amount]),
            ),
            (TokenInstruction::Revoke, vec![5]),
            // tag 6, authority type 2 (AccountOwner), option tag 1, key.
            (
                TokenInstruction::SetAuthority {
                    authority_type: AuthorityType::AccountOwner,
                    new_authority: Some(key(9)),
                },
                concat(&[&[6, 2, 1], &[9; 32]]),
            ),
            (
                TokenInstruction::SetAuthority {
                    authority_type: AuthorityType::MintTokens,
                    new_authority: None,
                },
                vec![6, 0, 0],
            ),
            (
                TokenInstruction::MintTo { amount: 1000 },
                concat(&[&[7], amount]),
            ),
            (
                TokenInstruction::Burn { amount: 1000 },
                concat(&[&[8], amount]),
            ),
            (TokenInstruction::CloseAccount, vec![9]),
            (TokenInstruction::FreezeAccount, vec![10]),
            (TokenInstruction::ThawAccount, vec![11]),
            // Checked variants: amount then decimals.
            (
                TokenInstruction::TransferChecked {
                    amount: 1000,
                    decimals: 6,
                },
                concat(&[&[12], amount, &[6]]),
            ),
            (
                TokenInstruction::ApproveChecked {
                    amount: 1000,
                    decimals: 6,
                },
                concat(&[&[13], amount, &[6]]),
            ),
            (
                TokenInstruction::MintToChecked {
                    amount: 1000,
                    decimals: 6,
                },
                concat(&[&[14], amount, &[6]]),
            ),
            (
                TokenInstruction::BurnChecked {
                    amount: 1000,
                    decimals: 6,
                },
                concat(&[&[15], amount, &[6]]),
            ),
            (
                TokenInstruction::InitializeAccount2 { owner: key(5) },
                concat(&[&[16], &[5; 32]]),
            ),
            (TokenInstruction::SyncNative, vec![17]),
            (
                TokenInstruction::InitializeAccount3 { owner: key(5) },
                concat(&[&[18], &[5; 32]]),
            ),
            (TokenInstruction::InitializeMultisig2 { m: 3 }, vec![19, 3]),
            (
                TokenInstruction::InitializeMint2 {
                    decimals: 0,
                    mint_authority: key(7),
                    freeze_authority: None,
                },
                concat(&[&[20, 0], &[7; 32], &[0]]),
            ),
            (TokenInstruction::GetAccountDataSize, vec![21]),
            (TokenInstruction::InitializeImmutableOwner, vec![22]),
            (
                TokenInstruction::AmountToUiAmount { amount: 1000 },
                concat(&[&[23], amount]),
            ),
            (
                TokenInstruction::UiAmountToAmount {
                    ui_amount: "1.5".into(),
                },
                vec![24, b'1', b'.', b'5'],
            ),
        ];
        for (instruction, bytes) in cases {
            assert_eq!(instruction.pack(), bytes, "{instruction:?}");
            assert_eq!(TokenInstruction::unpack(&bytes), Ok(instruction.clone()));
            assert_eq!(instruction.tag(), bytes[0]);
        }
        // A known vector: transfer of u64::MAX.
        assert_eq!(
            TokenInstruction::Transfer { amount: u64::MAX }.pack(),
            [3, 255, 255, 255, 255, 255, 255, 255, 255]
        );
    }

    #[test]
    fn malformed_data_is_invalid_instruction() {
        let bad: &[&[u8]] = &[
            &[],   // no tag
            &[25], // unknown tags
            &[255],
            &[0],                      // InitializeMint without decimals
            &[0, 6],                   // ... without authority
            &[0, 6, 7, 7, 7],          // ... with a short authority
            &[3, 1, 2, 3, 4, 5, 6, 7], // Transfer: 7-byte amount
            &[4],
            &[7, 0],
            &[8, 0, 0, 0],
            &[12, 0, 0, 0, 0, 0, 0, 0, 0], // TransferChecked without decimals
            &[13, 0],
            &[14, 0, 0, 0, 0, 0, 0, 0, 0],
            &[15],
            &[16, 1, 2, 3], // short owner
            &[18],
            &[2], // multisig without m
            &[19],
            &[6],          // SetAuthority without type
            &[6, 4, 0],    // authority type 4
            &[6, 0],       // ... without option tag
            &[6, 0, 2],    // option tag 2
            &[6, 0, 1, 1], // option tag 1 with a short key
            &[23, 1],
            &[24, 0xFF, 0xFE], // not UTF-8
        ];
        for data in bad {
            assert_eq!(
                TokenInstruction::unpack(data),
                Err(TokenError::InvalidInstruction),
                "{data:?}"
            );
        }
        // InitializeMint's freeze option: a missing tag, tag 2, or tag 1 with 31 bytes.
        let mut data = concat(&[&[0, 6], &[7; 32]]);
        assert_eq!(
            TokenInstruction::unpack(&data),
            Err(TokenError::InvalidInstruction)
        );
        data.push(2);
        assert_eq!(
            TokenInstruction::unpack(&data),
            Err(TokenError::InvalidInstruction)
        );
        data.pop();
        data.push(1);
        data.extend_from_slice(&[8; 31]);
        assert_eq!(
            TokenInstruction::unpack(&data),
            Err(TokenError::InvalidInstruction)
        );
        data.push(8);
        assert!(TokenInstruction::unpack(&data).is_ok());
    }

    #[test]
    fn trailing_bytes_are_ignored_as_in_spl() {
        assert_eq!(
            TokenInstruction::unpack(&[5, 1, 2, 3]),
            Ok(TokenInstruction::Revoke)
        );
        assert_eq!(
            TokenInstruction::unpack(&[3, 1, 0, 0, 0, 0, 0, 0, 0, 9, 9]),
            Ok(TokenInstruction::Transfer { amount: 1 })
        );
    }

    /// The builders list the accounts SPL's builders do, with the same flags
    /// (`AccountMeta::new` = writable, `new_readonly` = readonly; second argument = signer).
    #[test]
    fn builders_match_spls_account_lists() {
        let (a, b, c, d) = (key(1), key(2), key(3), key(4));
        let meta = |pubkey: Pubkey, is_signer: bool, is_writable: bool| AccountMeta {
            pubkey,
            is_signer,
            is_writable,
        };

        let ix = initialize_mint(&a, &b, Some(&c), 6);
        assert_eq!(ix.program_id, ID);
        assert_eq!(
            ix.accounts,
            vec![meta(a, false, true), meta(RENT_SYSVAR_ID, false, false)]
        );
        assert_eq!(ix.data, concat(&[&[0, 6], &[2; 32], &[1], &[3; 32]]));

        let ix = initialize_mint2(&a, &b, None, 6);
        assert_eq!(ix.accounts, vec![meta(a, false, true)]);
        assert_eq!(ix.data, concat(&[&[20, 6], &[2; 32], &[0]]));

        let ix = initialize_account(&a, &b, &c);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, false),
                meta(c, false, false),
                meta(RENT_SYSVAR_ID, false, false)
            ]
        );
        assert_eq!(ix.data, vec![1]);

        let ix = initialize_account2(&a, &b, &c);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, false),
                meta(RENT_SYSVAR_ID, false, false)
            ]
        );
        assert_eq!(ix.data, concat(&[&[16], &[3; 32]]));

        let ix = initialize_account3(&a, &b, &c);
        assert_eq!(
            ix.accounts,
            vec![meta(a, false, true), meta(b, false, false)]
        );
        assert_eq!(ix.data, concat(&[&[18], &[3; 32]]));

        let ix = transfer(&a, &b, &c, 5);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, true),
                meta(c, true, false)
            ]
        );
        assert_eq!(ix.data, vec![3, 5, 0, 0, 0, 0, 0, 0, 0]);

        let ix = transfer_checked(&a, &b, &c, &d, 5, 2);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, false),
                meta(c, false, true),
                meta(d, true, false)
            ]
        );
        assert_eq!(ix.data, vec![12, 5, 0, 0, 0, 0, 0, 0, 0, 2]);

        let ix = approve(&a, &b, &c, 5);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, false),
                meta(c, true, false)
            ]
        );
        assert_eq!(ix.data, vec![4, 5, 0, 0, 0, 0, 0, 0, 0]);

        let ix = approve_checked(&a, &b, &c, &d, 5, 2);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, false),
                meta(c, false, false),
                meta(d, true, false)
            ]
        );
        assert_eq!(ix.data, vec![13, 5, 0, 0, 0, 0, 0, 0, 0, 2]);

        let ix = revoke(&a, &b);
        assert_eq!(
            ix.accounts,
            vec![meta(a, false, true), meta(b, true, false)]
        );
        assert_eq!(ix.data, vec![5]);

        let ix = set_authority(&a, None, AuthorityType::CloseAccount, &b);
        assert_eq!(
            ix.accounts,
            vec![meta(a, false, true), meta(b, true, false)]
        );
        assert_eq!(ix.data, vec![6, 3, 0]);

        let ix = mint_to(&a, &b, &c, 5);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, true),
                meta(c, true, false)
            ]
        );
        assert_eq!(ix.data, vec![7, 5, 0, 0, 0, 0, 0, 0, 0]);

        let ix = mint_to_checked(&a, &b, &c, 5, 2);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, true),
                meta(c, true, false)
            ]
        );
        assert_eq!(ix.data, vec![14, 5, 0, 0, 0, 0, 0, 0, 0, 2]);

        let ix = burn(&a, &b, &c, 5);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, true),
                meta(c, true, false)
            ]
        );
        assert_eq!(ix.data, vec![8, 5, 0, 0, 0, 0, 0, 0, 0]);

        let ix = burn_checked(&a, &b, &c, 5, 2);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, true),
                meta(c, true, false)
            ]
        );
        assert_eq!(ix.data, vec![15, 5, 0, 0, 0, 0, 0, 0, 0, 2]);

        let ix = close_account(&a, &b, &c);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, true),
                meta(c, true, false)
            ]
        );
        assert_eq!(ix.data, vec![9]);

        let ix = freeze_account(&a, &b, &c);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, false),
                meta(c, true, false)
            ]
        );
        assert_eq!(ix.data, vec![10]);

        let ix = thaw_account(&a, &b, &c);
        assert_eq!(
            ix.accounts,
            vec![
                meta(a, false, true),
                meta(b, false, false),
                meta(c, true, false)
            ]
        );
        assert_eq!(ix.data, vec![11]);

        let ix = initialize_immutable_owner(&a);
        assert_eq!(ix.accounts, vec![meta(a, false, true)]);
        assert_eq!(ix.data, vec![22]);
    }

    #[test]
    fn ids_are_spls() {
        // The base58 ids decode to their published bytes' first few (spot check) and back.
        assert_eq!(
            ID.to_string(),
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
        );
        assert_eq!(ID.to_bytes()[..4], [6, 221, 246, 225]);
        assert_eq!(
            RENT_SYSVAR_ID.to_string(),
            "SysvarRent111111111111111111111111111111111"
        );
    }

    fn any_instruction() -> impl Strategy<Value = TokenInstruction> {
        let key = any::<[u8; 32]>().prop_map(Pubkey::new_from_array);
        let authority_type = prop_oneof![
            Just(AuthorityType::MintTokens),
            Just(AuthorityType::FreezeAccount),
            Just(AuthorityType::AccountOwner),
            Just(AuthorityType::CloseAccount),
        ];
        prop_oneof![
            (any::<u8>(), key.clone(), proptest::option::of(key.clone())).prop_map(
                |(decimals, a, f)| {
                    TokenInstruction::InitializeMint {
                        decimals,
                        mint_authority: a,
                        freeze_authority: f,
                    }
                }
            ),
            (any::<u8>(), key.clone(), proptest::option::of(key.clone())).prop_map(
                |(decimals, a, f)| {
                    TokenInstruction::InitializeMint2 {
                        decimals,
                        mint_authority: a,
                        freeze_authority: f,
                    }
                }
            ),
            Just(TokenInstruction::InitializeAccount),
            any::<u64>().prop_map(|amount| TokenInstruction::Transfer { amount }),
            any::<u64>().prop_map(|amount| TokenInstruction::Approve { amount }),
            Just(TokenInstruction::Revoke),
            (authority_type, proptest::option::of(key.clone())).prop_map(
                |(authority_type, new_authority)| {
                    TokenInstruction::SetAuthority {
                        authority_type,
                        new_authority,
                    }
                }
            ),
            any::<u64>().prop_map(|amount| TokenInstruction::MintTo { amount }),
            any::<u64>().prop_map(|amount| TokenInstruction::Burn { amount }),
            Just(TokenInstruction::CloseAccount),
            (any::<u64>(), any::<u8>()).prop_map(|(amount, decimals)| {
                TokenInstruction::TransferChecked { amount, decimals }
            }),
            (any::<u64>(), any::<u8>())
                .prop_map(|(amount, decimals)| TokenInstruction::BurnChecked { amount, decimals }),
            key.clone()
                .prop_map(|owner| TokenInstruction::InitializeAccount2 { owner }),
            key.prop_map(|owner| TokenInstruction::InitializeAccount3 { owner }),
            ".*".prop_map(|ui_amount| TokenInstruction::UiAmountToAmount { ui_amount }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn unpack_never_panics(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            match TokenInstruction::unpack(&data) {
                // Whatever decodes re-encodes to a prefix of the input (SPL ignores the rest).
                Ok(instruction) => {
                    let packed = instruction.pack();
                    prop_assert!(data.starts_with(&packed), "{:?} -> {:?}", data, packed);
                }
                Err(error) => prop_assert_eq!(error, TokenError::InvalidInstruction),
            }
        }

        #[test]
        fn pack_round_trips(instruction in any_instruction()) {
            prop_assert_eq!(TokenInstruction::unpack(&instruction.pack()), Ok(instruction));
        }
    }
}
