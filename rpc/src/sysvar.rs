//! Solana's sysvar accounts as clients read them: Clock, Rent and EpochSchedule at Solana's
//! addresses with Solana's byte layouts, answered by getAccountInfo and getMultipleAccounts.
//!
//! Key decision: they are views built when read, not accounts in the database, so they add
//! nothing to the state hash and cost nothing per slot. Programs that are passed a sysvar
//! account (e.g. SPL Token's InitializeMint, which names Rent) do not read it in Braid.

use braid_runtime::{Account, Pubkey};

use crate::methods::{
    RENT_EXEMPTION_YEARS, RENT_LAMPORTS_PER_BYTE_YEAR, SLOTS_PER_EPOCH,
    minimum_balance_for_rent_exemption,
};

/// The owner of every sysvar account.
pub const SYSVAR_OWNER_ID: Pubkey =
    Pubkey::from_str_const("Sysvar1111111111111111111111111111111111111");
/// The Clock sysvar.
pub const CLOCK_ID: Pubkey = Pubkey::from_str_const("SysvarC1ock11111111111111111111111111111111");
/// The Rent sysvar.
pub const RENT_ID: Pubkey = Pubkey::from_str_const("SysvarRent111111111111111111111111111111111");
/// The EpochSchedule sysvar.
pub const EPOCH_SCHEDULE_ID: Pubkey =
    Pubkey::from_str_const("SysvarEpochSchedu1e111111111111111111111111");
/// Solana's share of collected rent that is burnt, in percent (part of Rent's layout).
const RENT_BURN_PERCENT: u8 = 50;

/// The sysvar at `key` as of `slot` (slots of `slot_ms`), if `key` is one Braid serves.
pub fn account(key: &Pubkey, slot: u64, slot_ms: u64) -> Option<Account> {
    let data = if *key == CLOCK_ID {
        clock(slot, slot_ms)
    } else if *key == RENT_ID {
        let mut data = Vec::with_capacity(17);
        data.extend_from_slice(&RENT_LAMPORTS_PER_BYTE_YEAR.to_le_bytes());
        data.extend_from_slice(&(RENT_EXEMPTION_YEARS as f64).to_le_bytes());
        data.push(RENT_BURN_PERCENT);
        data
    } else if *key == EPOCH_SCHEDULE_ID {
        let mut data = Vec::with_capacity(33);
        data.extend_from_slice(&SLOTS_PER_EPOCH.to_le_bytes());
        data.extend_from_slice(&SLOTS_PER_EPOCH.to_le_bytes());
        data.push(0); // no warm-up
        data.extend_from_slice(&0u64.to_le_bytes());
        data.extend_from_slice(&0u64.to_le_bytes());
        data
    } else {
        return None;
    };
    Some(Account {
        lamports: minimum_balance_for_rent_exemption(data.len() as u64),
        owner: SYSVAR_OWNER_ID,
        executable: false,
        data,
    })
}

/// Clock: slot, epoch start time, epoch, leader-schedule epoch, and the time now.
fn clock(slot: u64, slot_ms: u64) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        });
    let epoch = slot / SLOTS_PER_EPOCH;
    let into_epoch_s = (slot % SLOTS_PER_EPOCH).saturating_mul(slot_ms) / 1_000;
    let epoch_start = now.saturating_sub(i64::try_from(into_epoch_s).unwrap_or(i64::MAX));
    let mut data = Vec::with_capacity(40);
    data.extend_from_slice(&slot.to_le_bytes());
    data.extend_from_slice(&epoch_start.to_le_bytes());
    data.extend_from_slice(&epoch.to_le_bytes());
    data.extend_from_slice(&epoch.saturating_add(1).to_le_bytes());
    data.extend_from_slice(&now.to_le_bytes());
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_solanas() {
        let clock = account(&CLOCK_ID, 432_001, 400).unwrap();
        assert_eq!(clock.data.len(), 40);
        assert_eq!(clock.data[..8], 432_001u64.to_le_bytes());
        assert_eq!(clock.data[16..24], 1u64.to_le_bytes());
        assert_eq!(clock.owner, SYSVAR_OWNER_ID);
        let rent = account(&RENT_ID, 0, 400).unwrap();
        assert_eq!(
            rent.data,
            [
                &3_480u64.to_le_bytes()[..],
                &2.0f64.to_le_bytes()[..],
                &[50u8][..]
            ]
            .concat()
        );
        // Solana's own figure for the Rent sysvar's 17 bytes.
        assert_eq!(rent.lamports, 1_009_200);
        assert_eq!(account(&EPOCH_SCHEDULE_ID, 0, 400).unwrap().data.len(), 33);
        assert_eq!(account(&Pubkey::default(), 0, 400), None);
    }
}
