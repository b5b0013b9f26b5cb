//! Braid load generator (arrives with the cli issue); criterion benches live in `benches/`.
