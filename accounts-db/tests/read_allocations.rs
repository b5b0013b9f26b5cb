//! A read allocates exactly one buffer, the account's data, whether it is served from the
//! open slot or from a committed record. A read once also formatted an error's file name
//! whether or not there was an error, which made it three to four times slower; this guards
//! against any hidden allocation coming back on the read path.
// Counting arithmetic on small values.
#![allow(clippy::arithmetic_side_effects)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use braid_accounts_db::{AccountsDb, Options};
use braid_primitives::{Account, Hash, Pubkey};

/// Counts allocations made by the current thread, so tests running in parallel on other
/// threads do not disturb the count.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract, which we forward.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: the caller upholds `realloc`'s contract, which we forward.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `read` and returns its result with the number of allocations it made.
fn counted<T>(read: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let value = read();
    (value, ALLOCATIONS.with(Cell::get) - before)
}

#[test]
fn a_read_allocates_only_the_account_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, _) = AccountsDb::open(dir.path(), Options::default()).expect("open");
    let committed = Pubkey::new_from_array([1; 32]);
    let open = Pubkey::new_from_array([2; 32]);
    let owner = Pubkey::new_from_array([3; 32]);
    let committed_account = Account::with_data(7, vec![9; 165], &owner);
    let open_account = Account::with_data(8, vec![4; 165], &owner);
    db.put(1, committed, committed_account.clone())
        .expect("put");
    db.commit(1, Hash::default()).expect("commit");
    db.put(2, open, open_account.clone()).expect("put");
    // The first lock a thread takes of a crossbeam `ShardedLock` registers the thread, which
    // allocates once; do that before counting.
    assert!(db.try_get(&committed).expect("read").is_some());

    assert_eq!(
        counted(|| db.try_get(&committed).expect("read")),
        (Some(committed_account.clone()), 1)
    );
    assert_eq!(
        counted(|| db.try_get(&open).expect("read")),
        (Some(open_account), 1)
    );
    assert_eq!(
        counted(|| db.get_committed(&committed).expect("read")),
        (Some(committed_account), 1)
    );
    // An absent account costs nothing.
    assert_eq!(
        counted(|| db.try_get(&Pubkey::new_from_array([5; 32])).expect("read")),
        (None, 0)
    );
}
