//! `braid`: the command line. Thin: parse arguments, call the libraries, print.

use clap::Parser;

/// Braid: a declared-account transaction runtime.
#[derive(Parser)]
#[command(name = "braid", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
