//! Braid banking stage: the parallel pipeline from wire bytes to durable slots (not yet built).
