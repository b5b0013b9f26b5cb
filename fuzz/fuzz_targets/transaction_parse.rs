//! Any bytes: parsing and sanitizing never panics, and whatever is accepted re-encodes to
//! exactly the input (one encoding per transaction, so the message hash is well defined).

#![no_main]

use braid_runtime::Transaction;
use braid_runtime::sanitized::SanitizedTransaction;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = Transaction::from_bytes(data);
    if let Ok(tx) = SanitizedTransaction::try_from_bytes(data) {
        assert_eq!(tx.transaction().to_bytes(), data);
        assert_eq!(parsed.as_ref().ok(), Some(tx.transaction()));
        assert_eq!(tx.message_bytes(), tx.message().serialize().as_slice());
        let writable = tx.writable_keys().count();
        let readonly = tx.readonly_keys().count();
        assert_eq!(writable + readonly, tx.account_keys().len());
    } else if let Ok(tx) = parsed {
        // Parsed but not sanitized: still re-encodes to the input.
        assert_eq!(tx.to_bytes(), data);
    }
});
