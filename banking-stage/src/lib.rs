//! Braid banking stage: the parallel pipeline from wire bytes to durable slots (not yet built).

pub mod bank;
pub mod genesis;
pub mod ledger;
pub mod pipeline;
pub mod rpc;
pub mod scheduler;
