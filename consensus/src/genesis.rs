//! The validator set as part of a ledger's genesis: one account at a fixed address lists
//! every validator and its stake, so the set is covered by the genesis hash every node
//! checks, and no program can change it (no key signs for that address).

use borsh::{BorshDeserialize, BorshSerialize};
use braid_ledger::genesis::Genesis;
use braid_primitives::{Account, Pubkey};

use crate::context::{Validator, ValidatorSet};
use crate::error::ConsensusError;
use crate::signing::PublicKey;

/// What the validator set account's address hashes: no one holds its key.
const VALIDATOR_SET_SEED: &[u8] = b"braid-consensus-validator-set-v1";
/// Most validators a set may list.
pub const VALIDATORS_MAX: usize = 256;

/// The address of the genesis account that lists the validators.
pub fn validator_set_address() -> Pubkey {
    Pubkey::new_from_array(*blake3::hash(VALIDATOR_SET_SEED).as_bytes())
}

#[derive(BorshSerialize, BorshDeserialize)]
struct Listed {
    key: [u8; 32],
    stake: u64,
}

/// The genesis account that lists `validators`: owned by its own address, rent-exempt.
pub fn validator_set_account(validators: &ValidatorSet) -> (Pubkey, Account) {
    let listed: Vec<Listed> = validators
        .validators()
        .iter()
        .map(|validator| Listed {
            key: validator.public_key.0,
            stake: validator.voting_power,
        })
        .collect();
    let data = borsh::to_vec(&listed).expect("Borsh into a Vec never fails");
    let address = validator_set_address();
    let lamports = braid_runtime::rent::minimum_balance(data.len() as u64);
    (
        address,
        Account {
            lamports,
            owner: address,
            executable: false,
            data,
        },
    )
}

/// The validator set `genesis` lists.
pub fn validator_set_of(genesis: &Genesis) -> Result<ValidatorSet, ConsensusError> {
    let address = validator_set_address();
    let account = genesis
        .accounts
        .iter()
        .find(|(key, _)| *key == address)
        .map(|(_, account)| account)
        .ok_or(ConsensusError::NoValidatorSet)?;
    let listed: Vec<Listed> =
        borsh::from_slice(&account.data).map_err(|_| ConsensusError::InvalidValidatorSet)?;
    if listed.len() > VALIDATORS_MAX {
        return Err(ConsensusError::InvalidValidatorSet);
    }
    ValidatorSet::new(
        listed
            .into_iter()
            .map(|listed| Validator::new(PublicKey(listed.key), listed.stake))
            .collect(),
    )
    .ok_or(ConsensusError::InvalidValidatorSet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::PrivateKey;

    #[test]
    fn a_genesis_carries_its_validator_set() {
        let set = ValidatorSet::new(
            (1..=4u8)
                .map(|n| Validator::new(PrivateKey::from_seed(&[n; 32]).public_key(), 10))
                .collect(),
        )
        .unwrap();
        let genesis = Genesis::new(400, vec![validator_set_account(&set)]).unwrap();
        assert_eq!(validator_set_of(&genesis).unwrap(), set);
        let empty = Genesis::new(400, Vec::new()).unwrap();
        assert!(matches!(
            validator_set_of(&empty),
            Err(ConsensusError::NoValidatorSet)
        ));
    }
}
