//! `braid`: the command line. Thin: parse arguments, call the libraries, print.
//!
//! Every command returns `Result<Output, String>`: the error is one readable line (what
//! failed and why) printed on stderr with a non-zero exit status; user mistakes never panic.
//! With `--output json` a command prints exactly one JSON object on stdout.

mod amm;
mod chain;
mod errors;
mod insurance;
mod lending;
mod localnet;
mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use braid_benches::BenchConfig;
use braid_node::{Node, NodeConfig};
use braid_primitives::LAMPORTS_PER_SOL;
use braid_rpc::RPC_PORT_DEFAULT;
use braid_rpc::client::{CONFIRM_TIMEOUT_DEFAULT, ClientError, RpcClient};
use braid_rpc::types::RpcSignatureStatus;
use braid_runtime::keypair::{Keypair, read_keypair_file, write_keypair_file};
use braid_runtime::{Instruction, Pubkey, Signature, Transaction};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

/// Every transaction is parsed on a sigverify worker and freed on a banking thread, so most
/// frees cross threads. Once the freeing thread's small per-thread cache is full, glibc's
/// allocator takes the owning arena's lock for each such free, and malloc and free came to a
/// quarter of the pipeline's CPU. mimalloc frees across threads without a lock
/// (BENCHMARKS.md, "Issue 10, third pass").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The default keypair, relative to the home directory.
const KEYPAIR_PATH_DEFAULT: &str = ".config/braid/id.json";
/// How often the node's status line is refreshed.
const STATUS_REFRESH_INTERVAL: Duration = Duration::from_secs(1);
/// Lamports a new mint account holds: rent-exempt for its 82 bytes.
const MINT_ACCOUNT_LAMPORTS: u64 =
    braid_runtime::rent::minimum_balance(braid_program_token::MINT_LEN as u64);
/// Lamports a new token account holds: rent-exempt for its 165 bytes.
const TOKEN_ACCOUNT_LAMPORTS: u64 =
    braid_runtime::rent::minimum_balance(braid_program_token::ACCOUNT_LEN as u64);
/// How often the node checks for Ctrl-C between refreshes.
const SHUTDOWN_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Braid: a declared-account transaction runtime.
#[derive(Parser)]
#[command(name = "braid", version, about)]
struct Cli {
    /// JSON-RPC URL of the node.
    #[arg(short = 'u', long, global = true, default_value = braid_rpc::RPC_URL_DEFAULT)]
    url: String,
    /// Keypair file paying for and signing transactions [default: ~/.config/braid/id.json].
    #[arg(short = 'k', long, global = true)]
    keypair: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Display)]
    output: OutputFormat,
    #[command(subcommand)]
    command: Command,
}

/// How results are printed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// Readable lines.
    Display,
    /// One JSON object.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Manage keypairs.
    #[command(subcommand)]
    Keygen(KeygenCommand),
    /// Print the address (base58 public key) of the keypair.
    Address,
    /// Run a local node: the banking pipeline on a ledger, served over JSON-RPC.
    Node {
        /// Ledger directory (created if missing).
        #[arg(long)]
        ledger: PathBuf,
        /// Wipe the ledger first.
        #[arg(long)]
        reset: bool,
        /// JSON-RPC port (0 picks a free port).
        #[arg(long, default_value_t = RPC_PORT_DEFAULT)]
        rpc_port: u16,
        /// PubSub (WebSocket) port [default: the RPC port + 1, where Solana's clients look].
        #[arg(long)]
        ws_port: Option<u16>,
        /// Address to listen on; anything but loopback exposes the node (and its faucet).
        #[arg(long, default_value = "127.0.0.1")]
        bind_address: std::net::IpAddr,
        /// Most lamports one airdrop may ask for.
        #[arg(long, default_value_t = braid_rpc::AIRDROP_LAMPORTS_MAX)]
        faucet_request_max: u64,
        /// Most lamports the faucet hands out per 10-second window, all requests together.
        #[arg(long, default_value_t = braid_rpc::FAUCET_WINDOW_LAMPORTS_MAX)]
        faucet_window_max: u64,
        /// Join a network of validators with this genesis (`braid genesis --validators`)
        /// instead of committing slots alone; needs --identity and --p2p.
        #[arg(long, requires_all = ["identity", "p2p"])]
        genesis: Option<PathBuf>,
        /// This validator's identity keypair (from `braid genesis`).
        #[arg(long, requires = "genesis")]
        identity: Option<PathBuf>,
        /// The address to listen on for the other validators, e.g. 127.0.0.1:27100.
        #[arg(long, requires = "genesis")]
        p2p: Option<std::net::SocketAddr>,
        /// Another validator's p2p address (repeat for each).
        #[arg(long, requires = "genesis")]
        peer: Vec<std::net::SocketAddr>,
        /// The network's faucet keypair, for this node to serve airdrops with.
        #[arg(long, requires = "genesis")]
        faucet: Option<PathBuf>,
        /// Another validator's JSON-RPC URL (repeat for each): transactions sent here are
        /// forwarded to it.
        #[arg(long, requires = "genesis")]
        peer_rpc: Vec<String>,
        /// Also take transactions on this TCP port, without JSON (length-prefixed wire
        /// bytes, one verdict byte each; `braid bench --rpc-url` finds it through
        /// getClusterNodes). 0 picks a free port.
        #[arg(long)]
        ingest_port: Option<u16>,
    },
    /// Write a new network's genesis and keys: genesis.bin, faucet.json and one
    /// validator-I.json identity per validator.
    Genesis {
        /// How many validators, with equal stakes.
        #[arg(long)]
        validators: usize,
        /// The directory to write (created if missing; must hold no genesis yet).
        #[arg(long)]
        out: PathBuf,
    },
    /// Run a network of validators on this machine, one `braid node` process each, on
    /// loopback; prints their RPC URLs and runs until Ctrl-C.
    Localnet {
        /// How many validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// The network's directory: its genesis and keys (written on first run) and one
        /// ledger and log per validator.
        #[arg(long)]
        dir: PathBuf,
        /// The first validator's JSON-RPC port; validator I serves RPC on this + 2·I and
        /// PubSub on the port after it.
        #[arg(long, default_value_t = RPC_PORT_DEFAULT)]
        rpc_port: u16,
        /// The first validator's p2p port; validator I listens on this + I.
        #[arg(long, default_value_t = localnet::P2P_PORT_DEFAULT)]
        p2p_port: u16,
        /// Serve binary ingestion ports too (see `braid node --ingest-port`): validator I on
        /// this + I.
        #[arg(long)]
        ingest_port: Option<u16>,
    },
    /// Print an account's balance in lamports.
    Balance {
        /// The account [default: the keypair's address].
        pubkey: Option<Pubkey>,
    },
    /// Ask the node's faucet for lamports.
    Airdrop {
        /// Lamports to request.
        lamports: u64,
        /// The recipient [default: the keypair's address].
        pubkey: Option<Pubkey>,
    },
    /// Transfer lamports from the keypair's account.
    Transfer {
        /// The recipient.
        to: Pubkey,
        /// Lamports to send.
        lamports: u64,
    },
    /// Print a committed transaction from the node's history: its slot, outcome, fee,
    /// balance changes and logs.
    Transaction {
        /// The transaction's signature.
        signature: Signature,
    },
    /// Print an account.
    Account {
        /// The account.
        pubkey: Pubkey,
    },
    /// SPL-token operations; the keypair pays and is the authority.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Price-feed operations; the keypair pays and is the feed's authority.
    #[command(subcommand)]
    Oracle(OracleCommand),
    /// Constant-product AMM: create pools, swap, deposit, withdraw.
    ///
    /// The keypair's token accounts are given as flags (`--source-a`, `--token-a`,
    /// `--lp-account`, ...): Braid has no associated token accounts to derive them from.
    #[command(subcommand)]
    Amm(amm::AmmCommand),
    /// Lending: reserves, deposits, borrows, repayments, liquidations.
    ///
    /// Every transaction that moves value begins with the refreshes the program requires
    /// (each reserve involved, then the obligation).
    #[command(subcommand)]
    Lending(lending::LendingCommand),
    /// Parametric insurance: pools, underwriting, policies, claims.
    #[command(subcommand)]
    Insurance(insurance::InsuranceCommand),
    /// Ledger maintenance.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Run the load generator: pre-signed transactions through the full pipeline.
    Bench(BenchArgs),
}

#[derive(Subcommand)]
enum OracleCommand {
    /// Create a price feed whose authority is the keypair.
    CreateFeed {
        /// Decimal exponent of prices (e.g. -6: a price of 1500000 means 1.5).
        #[arg(long, default_value_t = -6, allow_hyphen_values = true)]
        exponent: i32,
    },
    /// Publish a price.
    SetPrice {
        /// The feed.
        feed: Pubkey,
        /// The price, in units of 10^exponent.
        #[arg(allow_hyphen_values = true)]
        price: i64,
        /// Confidence interval, in the same units.
        #[arg(long, default_value_t = 0)]
        confidence: u64,
    },
}

/// `braid bench` flags (see `braid_benches::BenchConfig`).
#[derive(clap::Args)]
struct BenchArgs {
    /// What the transactions do.
    #[arg(long, value_enum, default_value_t = BenchConfig::default().workload)]
    workload: braid_benches::Workload,
    /// Generated accounts.
    #[arg(long, default_value_t = BenchConfig::default().accounts)]
    accounts: usize,
    /// Pools (AMM-style workloads).
    #[arg(long, default_value_t = BenchConfig::default().pools)]
    pools: usize,
    /// Share of transactions touching one hot account, 0 to 1.
    #[arg(long, default_value_t = BenchConfig::default().hot_ratio)]
    hot_ratio: f64,
    /// Transactions to send.
    #[arg(long, default_value_t = BenchConfig::default().txs)]
    txs: usize,
    /// Banking threads.
    #[arg(long, default_value_t = BenchConfig::default().threads)]
    threads: usize,
    /// Seed for keys and transactions.
    #[arg(long, default_value_t = BenchConfig::default().seed)]
    seed: u64,
    /// Skip signature verification.
    #[arg(long)]
    no_sigverify: bool,
    /// Share of transactions sent with a corrupted signature, 0 to below 1 (each must be
    /// rejected): the cost of an attack, end to end.
    #[arg(long, default_value_t = BenchConfig::default().bad_signatures)]
    bad_signatures: f64,
    /// Also simulate the scheduler on these thread counts (e.g. 4,8,16,32) with this run's
    /// transactions and their measured execution costs; reports the makespan speedup and
    /// the critical-path bound for each.
    #[arg(long, value_delimiter = ',')]
    simulate_threads: Vec<usize>,
    /// Open loop: offer this many transactions per second (with --duration), signed as
    /// they fall due, and report submit-to-finalized latency at that load.
    #[arg(long, requires = "duration")]
    rate: Option<u64>,
    /// Open loop: offer --rate for this many seconds.
    #[arg(long, requires = "rate")]
    duration: Option<f64>,
    /// Reference executor: one thread, block order, no scheduler.
    #[arg(long)]
    serial: bool,
    /// Ledger directory [default: a temporary directory].
    #[arg(long)]
    ledger: Option<PathBuf>,
    /// Print exactly one JSON object (same as `--output json`).
    #[arg(long)]
    json: bool,
    /// Run every banking-thread count (1, 2) at every hot ratio (0, 0.25, 0.5, 0.75, 1)
    /// instead of one run, and report TPS for each.
    #[arg(long)]
    sweep: bool,
    /// With `--sweep`: draw TPS against contention into this SVG file (one file per pool
    /// count with `--sweep-pools`, named FILE-pools-N.svg).
    #[arg(long, requires = "sweep")]
    plot: Option<PathBuf>,
    /// With `--sweep` on a pooled workload (amm, lending, insurance, mix): repeat the sweep
    /// for each of these pool counts [default when given bare: 1,4,16,64,1000].
    #[arg(long, requires = "sweep", value_delimiter = ',', num_args = 0..)]
    sweep_pools: Option<Vec<usize>>,
    /// Load a running node or network instead of an in-process pipeline: set up the
    /// workload over JSON-RPC, then send batches of `sendTransaction` to this URL (repeat
    /// for several: round-robin) and time each transaction to `finalized`. Needs --faucet.
    #[arg(
        long = "rpc-url",
        value_name = "URL",
        requires = "faucet",
        conflicts_with_all = [
            "threads",
            "serial",
            "no_sigverify",
            "bad_signatures",
            "simulate_threads",
            "sweep",
            "plot",
            "sweep_pools",
            "ledger",
        ]
    )]
    rpc_url: Vec<String>,
    /// With --rpc-url: the network's faucet keypair file, which pays for the setup (a
    /// node's is LEDGER/faucet.json, a localnet's DIR/faucet.json).
    #[arg(long, value_name = "KEYPAIR_FILE", requires = "rpc_url")]
    faucet: Option<PathBuf>,
}

#[derive(Subcommand)]
enum KeygenCommand {
    /// Write a new keypair file (Solana's format: a JSON array of 64 numbers).
    New {
        /// The file to write.
        #[arg(short = 'o', long)]
        outfile: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a mint whose authority is the keypair.
    CreateMint {
        /// Decimal places of the token.
        #[arg(long, default_value_t = 9)]
        decimals: u8,
    },
    /// Create a token account for a mint.
    CreateAccount {
        /// The mint.
        mint: Pubkey,
        /// The account's owner [default: the keypair's address].
        #[arg(long)]
        owner: Option<Pubkey>,
    },
    /// Mint tokens (in base units) into a token account.
    Mint {
        /// The mint.
        mint: Pubkey,
        /// The destination token account.
        account: Pubkey,
        /// Amount in base units.
        amount: u64,
    },
    /// Print a token account's balance (base units), mint and owner.
    Balance {
        /// The token account.
        account: Pubkey,
    },
    /// Transfer tokens (in base units) from a token account the keypair owns.
    Transfer {
        /// The source token account.
        source: Pubkey,
        /// The destination token account.
        destination: Pubkey,
        /// Amount in base units.
        amount: u64,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Replay a ledger from genesis and check every bank hash.
    Verify {
        /// Ledger directory.
        #[arg(long)]
        ledger: PathBuf,
        /// Threads for all replay work: signature checks, execution and the state hash
        /// (default: one per core). 1 replays on one thread.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=braid_banking_stage::scheduler::THREADS_MAX as i64))]
        threads: Option<u16>,
    },
}

/// Prints `text` and a newline on stdout; a closed stdout is not worth a panic.
fn print_line(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
}

/// What a command prints: a readable text and the same facts as JSON.
struct Output {
    text: String,
    json: Value,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Per-slot metrics and other diagnostics go to stderr when asked for, e.g.
    // `RUST_LOG=braid::slot=info braid node ...`; silent otherwise.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut format = cli.output;
    if let Command::Bench(args) = &cli.command {
        if args.json {
            format = OutputFormat::Json;
        }
        return finish(bench(args, format), format);
    }
    finish(run(cli), format)
}

fn finish(result: Result<Output, String>, format: OutputFormat) -> ExitCode {
    match result {
        Ok(output) => {
            match format {
                OutputFormat::Display => print_line(&output.text),
                OutputFormat::Json => print_line(&output.json.to_string()),
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<Output, String> {
    let context = Context {
        url: cli.url,
        keypair: cli.keypair,
    };
    match cli.command {
        Command::Keygen(KeygenCommand::New { outfile, force }) => keygen_new(&outfile, force),
        Command::Address => {
            let pubkey = context.signer()?.pubkey();
            Ok(Output {
                text: pubkey.to_string(),
                json: json!({"pubkey": pubkey.to_string()}),
            })
        }
        Command::Node {
            ledger,
            reset,
            rpc_port,
            ws_port,
            bind_address,
            faucet_request_max,
            faucet_window_max,
            genesis,
            identity,
            p2p,
            peer,
            faucet,
            peer_rpc,
            ingest_port,
        } => {
            let mut config = NodeConfig::new(&ledger, rpc_port);
            config.ingest_port = ingest_port;
            if let (Some(genesis), Some(identity), Some(p2p)) = (genesis, identity, p2p) {
                config.consensus = Some(localnet::setup(
                    &genesis, &identity, p2p, peer, peer_rpc, faucet,
                )?);
            }
            config.reset = reset;
            config.pubsub_port = ws_port;
            config.bind_address = bind_address;
            config.faucet_limits = braid_rpc::FaucetLimits {
                request_max_lamports: faucet_request_max,
                window_max_lamports: faucet_window_max,
                window: braid_rpc::FAUCET_WINDOW,
            };
            node(config)
        }
        Command::Genesis { validators, out } => {
            let files = braid_node::create_network(
                &out,
                validators,
                &braid_builtins::registry(),
                braid_node::FAUCET_LAMPORTS_DEFAULT,
            )
            .map_err(|e| format!("cannot write the network: {e}"))?;
            let validators: Vec<String> = files
                .validators
                .iter()
                .map(|path| path.display().to_string())
                .collect();
            Ok(Output {
                text: format!(
                    "genesis: {}\nfaucet: {}\nvalidators: {}",
                    files.genesis.display(),
                    files.faucet.display(),
                    validators.join(" ")
                ),
                json: json!({
                    "genesis": files.genesis.display().to_string(),
                    "faucet": files.faucet.display().to_string(),
                    "validators": validators,
                }),
            })
        }
        Command::Localnet {
            validators,
            dir,
            rpc_port,
            p2p_port,
            ingest_port,
        } => localnet::run(
            validators,
            &dir,
            localnet::Ports {
                rpc: rpc_port,
                p2p: p2p_port,
                ingest: ingest_port,
            },
        ),
        Command::Balance { pubkey } => {
            let pubkey = match pubkey {
                Some(pubkey) => pubkey,
                None => context.signer()?.pubkey(),
            };
            let lamports = context
                .client()
                .get_balance(&pubkey)
                .map_err(|e| e.to_string())?;
            Ok(Output {
                text: format!("{lamports} lamports ({} SOL)", sol(lamports)),
                json: json!({"pubkey": pubkey.to_string(), "lamports": lamports}),
            })
        }
        Command::Airdrop { lamports, pubkey } => {
            let pubkey = match pubkey {
                Some(pubkey) => pubkey,
                None => context.signer()?.pubkey(),
            };
            let client = context.client();
            let signature = client
                .request_airdrop(&pubkey, lamports)
                .map_err(|e| format!("airdrop failed: {e}"))?;
            let status = client
                .confirm_transaction(
                    &signature,
                    braid_rpc::types::ConfirmationStatus::Confirmed,
                    CONFIRM_TIMEOUT_DEFAULT,
                )
                .map_err(|e| format!("airdrop failed: {e}"))?;
            let balance = client.get_balance(&pubkey).map_err(|e| e.to_string())?;
            let mut output = confirmed(&signature.to_string(), &status);
            output.text = format!("{}\nbalance: {balance} lamports", output.text);
            extend(
                &mut output.json,
                json!({"pubkey": pubkey.to_string(), "lamports": lamports, "balance": balance}),
            );
            Ok(output)
        }
        Command::Transfer { to, lamports } => {
            let payer = context.signer()?;
            let instruction =
                braid_program_system::instruction::transfer(&payer.pubkey(), &to, lamports);
            let mut output = context
                .send(&[instruction], &payer, &[])
                .map_err(|e| format!("transfer failed: {e}"))?;
            extend(
                &mut output.json,
                json!({"from": payer.pubkey().to_string(), "to": to.to_string(), "lamports": lamports}),
            );
            Ok(output)
        }
        Command::Transaction { signature } => {
            let found = context
                .client()
                .get_transaction(&signature)
                .map_err(|e| e.to_string())?;
            let Some(json) = found else {
                return Err(format!(
                    "transaction {signature} is not in the node's history (not committed yet, \
                     or older than what the node keeps)"
                ));
            };
            Ok(Output {
                text: chain::describe_transaction(&json),
                json,
            })
        }
        Command::Account { pubkey } => {
            let info = context
                .client()
                .get_account_info(&pubkey)
                .map_err(|e| e.to_string())?;
            let Some(info) = info else {
                return Err(format!("account {pubkey} does not exist"));
            };
            let text = format!(
                "address: {pubkey}\nlamports: {}\nowner: {}\nexecutable: {}\ndata ({} bytes, base64): {}",
                info.lamports, info.owner, info.executable, info.space, info.data.0
            );
            let mut json = serde_json::to_value(&info).map_err(|e| e.to_string())?;
            extend(&mut json, json!({"pubkey": pubkey.to_string()}));
            Ok(Output { text, json })
        }
        Command::Token(command) => token(&context, command),
        Command::Oracle(command) => oracle(&context, command),
        Command::Amm(command) => amm::run(&context, command),
        Command::Lending(command) => lending::run(&context, command),
        Command::Insurance(command) => insurance::run(&context, command),
        Command::Bench(_) => unreachable!("bench is dispatched in main"),
        Command::Ledger(LedgerCommand::Verify { ledger, threads }) => {
            verify_ledger(&ledger, threads)
        }
    }
}

/// `braid ledger verify`: replays the ledger on the block executor, reporting progress on
/// stderr about once a second.
fn verify_ledger(ledger: &Path, threads: Option<u16>) -> Result<Output, String> {
    let executor = Arc::new(braid_runtime::executor::Executor::new(
        braid_builtins::registry(),
        braid_runtime::executor::ExecutorConfig::QUIET,
    ));
    let threads = threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let threads = threads.min(braid_banking_stage::scheduler::THREADS_MAX);
    let engine = braid_banking_stage::block_executor::BlockExecutor::new(threads)
        .map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let mut reported = started;
    let mut progress = |slot: u64, done: usize, total: usize| {
        if reported.elapsed() >= std::time::Duration::from_secs(1) {
            reported = std::time::Instant::now();
            eprintln!("verified {done} of {total} blocks (slot {slot})");
        }
    };
    let verified = braid_banking_stage::block_executor::verify_ledger(
        ledger,
        executor,
        &engine,
        &mut progress,
    )
    .map_err(|e| format!("ledger {} failed verification: {e}", ledger.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let ms = |ns: u64| ns as f64 / 1e6;
    let times = verified.times;
    Ok(Output {
        text: format!(
            "ledger verified: last slot {}, bank hash {} ({} transactions in {} blocks, {seconds:.2} s on {threads} threads)",
            verified.slot, verified.bank_hash, verified.transactions, verified.blocks
        ),
        json: json!({
            "ok": true,
            "slot": verified.slot,
            "bank_hash": verified.bank_hash.to_string(),
            "threads": threads,
            "seconds": seconds,
            "blocks": verified.blocks,
            "transactions": verified.transactions,
            "signatures": verified.signatures,
            "compute_units": verified.compute_units,
            "parse_ms": ms(times.parse_ns),
            "execute_ms": ms(times.execute_ns),
            "commit_ms": ms(times.commit_ns),
        }),
    })
}

/// Where to reach the node and who signs.
struct Context {
    url: String,
    keypair: Option<PathBuf>,
}

impl Context {
    fn keypair_path(&self) -> Result<PathBuf, String> {
        if let Some(path) = &self.keypair {
            return Ok(path.clone());
        }
        let home = std::env::var_os("HOME").ok_or("no --keypair given and $HOME is not set")?;
        Ok(PathBuf::from(home).join(KEYPAIR_PATH_DEFAULT))
    }

    fn signer(&self) -> Result<Keypair, String> {
        let path = self.keypair_path()?;
        read_keypair_file(&path).map_err(|e| format!("cannot use keypair {}: {e}", path.display()))
    }

    fn client(&self) -> RpcClient {
        RpcClient::new(self.url.clone())
    }

    /// Signs `instructions` with `payer` and `extra` signers, sends them and waits for
    /// confirmation.
    fn send(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        extra: &[&Keypair],
    ) -> Result<Output, ClientError> {
        let client = self.client();
        let blockhash = client.get_latest_blockhash()?;
        let mut signers = vec![payer];
        signers.extend_from_slice(extra);
        let tx = Transaction::new_signed_with_payer(
            instructions,
            Some(&payer.pubkey()),
            &signers,
            blockhash,
        );
        let (signature, status) =
            client.send_and_confirm_transaction(&tx, CONFIRM_TIMEOUT_DEFAULT)?;
        Ok(confirmed(&signature.to_string(), &status))
    }

    /// [`Context::send`], with a failure as one line naming `what` failed and, for a
    /// program's custom error, its typed name.
    fn send_checked(
        &self,
        what: &str,
        instructions: &[Instruction],
        payer: &Keypair,
        extra: &[&Keypair],
    ) -> Result<Output, String> {
        self.send(instructions, payer, extra)
            .map_err(|e| format!("{what} failed: {}", errors::describe(&e, instructions)))
    }
}

/// The output of a confirmed transaction.
fn confirmed(signature: &str, status: &RpcSignatureStatus) -> Output {
    let level = serde_json::to_value(status.confirmation_status).unwrap_or(Value::Null);
    let level_text = level.as_str().unwrap_or("confirmed").to_owned();
    Output {
        text: format!(
            "signature: {signature}\n{level_text} in slot {}",
            status.slot
        ),
        json: json!({"signature": signature, "slot": status.slot, "confirmationStatus": level}),
    }
}

/// Adds `more`'s fields to the JSON object `json`.
fn extend(json: &mut Value, more: Value) {
    if let (Value::Object(target), Value::Object(source)) = (json, more) {
        target.extend(source);
    }
}

/// Lamports as SOL, for display only.
fn sol(lamports: u64) -> String {
    let whole = lamports.checked_div(LAMPORTS_PER_SOL).unwrap_or(0);
    let fraction = lamports.checked_rem(LAMPORTS_PER_SOL).unwrap_or(0);
    let fraction = format!("{fraction:09}");
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

fn keygen_new(outfile: &Path, force: bool) -> Result<Output, String> {
    if outfile.exists() && !force {
        return Err(format!(
            "{} already exists: pass --force to overwrite it",
            outfile.display()
        ));
    }
    let keypair = Keypair::new();
    write_keypair_file(&keypair, outfile).map_err(|e| format!("cannot write keypair: {e}"))?;
    let pubkey = keypair.pubkey().to_string();
    Ok(Output {
        text: format!(
            "Wrote new keypair to {}\npubkey: {pubkey}",
            outfile.display()
        ),
        json: json!({"pubkey": pubkey, "outfile": outfile.display().to_string()}),
    })
}

fn node(config: NodeConfig) -> Result<Output, String> {
    let ledger = config.ledger_dir.clone();
    let node = Node::start(config, braid_builtins::registry())
        .map_err(|e| format!("cannot start the node: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let handler_stop = Arc::clone(&stop);
    ctrlc::set_handler(move || handler_stop.store(true, Ordering::Release))
        .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
    // The URL goes to stdout first, so scripts can find a node started on port 0. A reader
    // that closes the pipe afterwards must not bring the node down, so write errors are
    // ignored rather than panicking as println! would.
    let faucet = node
        .faucet()
        .map_or_else(|| "none".to_owned(), |faucet| faucet.to_string());
    print_line(&format!(
        "JSON-RPC listening on {}\nPubSub listening on {}\nfaucet: {faucet}\nledger: {}",
        node.rpc_url(),
        node.pubsub_url(),
        ledger.display()
    ));
    if let Some(addr) = node.ingest_addr() {
        print_line(&format!("ingestion port listening on {addr}"));
    }
    let shared = Arc::clone(node.shared());
    let (mut last_count, mut last_time) = (shared.transaction_count(), Instant::now());
    let mut read_only = false;
    while !stop.load(Ordering::Acquire) {
        std::thread::sleep(SHUTDOWN_POLL_INTERVAL);
        match shared.health() {
            Ok(()) => {}
            // A full disk damages nothing: keep answering reads (and saying why no
            // transaction is taken) until the operator frees space and restarts the node.
            Err(failure) if failure.disk_full => {
                if !read_only {
                    eprintln!(
                        "\nthe node stopped taking transactions: {failure}\n\
                         it keeps serving reads; free disk space, then restart it"
                    );
                    read_only = true;
                }
                continue;
            }
            Err(failure) => {
                // Commit what can be committed, then leave with one line and a failure code.
                eprintln!();
                let _ = node.shutdown();
                return Err(format!("the node stopped: {failure}"));
            }
        }
        let elapsed = last_time.elapsed();
        if elapsed < STATUS_REFRESH_INTERVAL {
            continue;
        }
        let count = shared.transaction_count();
        let tps = count.saturating_sub(last_count) as f64 / elapsed.as_secs_f64();
        eprint!(
            "\rslot {:>8}  transactions {:>10}  tps {:>9.0}   ",
            shared.slot(),
            count,
            tps
        );
        (last_count, last_time) = (count, Instant::now());
    }
    eprintln!("\nshutting down: committing the open slot");
    let slot = shared.slot();
    node.shutdown()
        .map_err(|e| format!("node shutdown failed: {e}"))?;
    Ok(Output {
        text: format!("node stopped at slot {slot}"),
        json: json!({"stopped": true, "slot": slot}),
    })
}

fn token(context: &Context, command: TokenCommand) -> Result<Output, String> {
    use braid_program_token::instruction as token;
    if let TokenCommand::Balance { account } = command {
        // Reading needs no keypair.
        let state = chain::token_account(context, &account)?;
        return Ok(Output {
            text: format!(
                "{} tokens (mint {}, owner {})",
                state.amount, state.mint, state.owner
            ),
            json: json!({"account": account.to_string(), "amount": state.amount, "mint": state.mint.to_string(), "owner": state.owner.to_string()}),
        });
    }
    let payer = context.signer()?;
    match command {
        TokenCommand::CreateMint { decimals } => {
            let mint = Keypair::new();
            let instructions = [
                braid_program_system::instruction::create_account(
                    &payer.pubkey(),
                    &mint.pubkey(),
                    MINT_ACCOUNT_LAMPORTS,
                    braid_program_token::MINT_LEN as u64,
                    &braid_program_token::ID,
                ),
                token::initialize_mint2(&mint.pubkey(), &payer.pubkey(), None, decimals),
            ];
            let mut output = context
                .send(&instructions, &payer, &[&mint])
                .map_err(|e| format!("create-mint failed: {e}"))?;
            output.text = format!("mint: {}\n{}", mint.pubkey(), output.text);
            extend(
                &mut output.json,
                json!({"mint": mint.pubkey().to_string(), "decimals": decimals}),
            );
            Ok(output)
        }
        TokenCommand::CreateAccount { mint, owner } => {
            let owner = owner.unwrap_or_else(|| payer.pubkey());
            let account = Keypair::new();
            let instructions = [
                braid_program_system::instruction::create_account(
                    &payer.pubkey(),
                    &account.pubkey(),
                    TOKEN_ACCOUNT_LAMPORTS,
                    braid_program_token::ACCOUNT_LEN as u64,
                    &braid_program_token::ID,
                ),
                token::initialize_account3(&account.pubkey(), &mint, &owner),
            ];
            let mut output = context
                .send(&instructions, &payer, &[&account])
                .map_err(|e| format!("create-account failed: {e}"))?;
            output.text = format!("account: {}\n{}", account.pubkey(), output.text);
            extend(
                &mut output.json,
                json!({"account": account.pubkey().to_string(), "mint": mint.to_string(), "owner": owner.to_string()}),
            );
            Ok(output)
        }
        TokenCommand::Mint {
            mint,
            account,
            amount,
        } => {
            let instruction = token::mint_to(&mint, &account, &payer.pubkey(), amount);
            let mut output = context
                .send(&[instruction], &payer, &[])
                .map_err(|e| format!("mint failed: {e}"))?;
            extend(
                &mut output.json,
                json!({"mint": mint.to_string(), "account": account.to_string(), "amount": amount}),
            );
            Ok(output)
        }
        TokenCommand::Balance { .. } => unreachable!("answered above without a keypair"),
        TokenCommand::Transfer {
            source,
            destination,
            amount,
        } => {
            let instruction = token::transfer(&source, &destination, &payer.pubkey(), amount);
            let mut output = context.send_checked("token transfer", &[instruction], &payer, &[])?;
            extend(
                &mut output.json,
                json!({"source": source.to_string(), "destination": destination.to_string(), "amount": amount}),
            );
            Ok(output)
        }
    }
}

fn oracle(context: &Context, command: OracleCommand) -> Result<Output, String> {
    use braid_program_oracle as oracle;
    let payer = context.signer()?;
    match command {
        OracleCommand::CreateFeed { exponent } => {
            let feed = Keypair::new();
            let instructions = [
                braid_program_system::instruction::create_account(
                    &payer.pubkey(),
                    &feed.pubkey(),
                    braid_runtime::rent::minimum_balance(oracle::FEED_BYTES as u64),
                    oracle::FEED_BYTES as u64,
                    &oracle::ID,
                ),
                oracle::initialize_feed(&feed.pubkey(), &payer.pubkey(), exponent),
            ];
            let mut output = context
                .send(&instructions, &payer, &[&feed])
                .map_err(|e| format!("create-feed failed: {e}"))?;
            output.text = format!("feed: {}\n{}", feed.pubkey(), output.text);
            extend(
                &mut output.json,
                json!({"feed": feed.pubkey().to_string(), "exponent": exponent}),
            );
            Ok(output)
        }
        OracleCommand::SetPrice {
            feed,
            price,
            confidence,
        } => {
            let instruction = oracle::set_price(&feed, &payer.pubkey(), price, confidence);
            let mut output = context
                .send(&[instruction], &payer, &[])
                .map_err(|e| format!("set-price failed: {e}"))?;
            extend(
                &mut output.json,
                json!({"feed": feed.to_string(), "price": price, "confidence": confidence}),
            );
            Ok(output)
        }
    }
}

/// `braid bench --sweep [--plot FILE] [--sweep-pools N,…]`: one run per (pools, threads,
/// hot ratio).
fn bench_sweep(
    args: &BenchArgs,
    config: &braid_benches::BenchConfig,
    progress: braid_benches::Progress<'_>,
    bars: &progress::PhaseProgress,
) -> Result<Output, String> {
    use braid_benches::sweep::{
        SWEEP_HOT_RATIOS_DEFAULT, SWEEP_POOLS_DEFAULT, SWEEP_THREADS_DEFAULT, plot_svg, sweep,
        sweep_pools,
    };
    let pools: Option<Vec<usize>> = args.sweep_pools.as_ref().map(|pools| {
        if pools.is_empty() {
            SWEEP_POOLS_DEFAULT.to_vec()
        } else {
            pools.clone()
        }
    });
    if pools.is_some() && !args.workload.uses_pools() {
        return Err(format!(
            "--sweep-pools: the {} workload has no pools (use amm, lending, insurance or mix)",
            args.workload
        ));
    }
    let points = match &pools {
        Some(pools) => sweep_pools(
            config,
            pools,
            &SWEEP_THREADS_DEFAULT,
            &SWEEP_HOT_RATIOS_DEFAULT,
            progress,
        ),
        None => sweep(
            config,
            &SWEEP_THREADS_DEFAULT,
            &SWEEP_HOT_RATIOS_DEFAULT,
            progress,
        ),
    }
    .map_err(|e| format!("bench sweep failed: {e}"))?;
    bars.finish();
    let mut plots = Vec::new();
    if let Some(path) = &args.plot {
        let pool_counts = pools.clone().unwrap_or_else(|| vec![config.pools]);
        for &pool_count in &pool_counts {
            let (path, title) = if pools.is_some() {
                let stem = path.file_stem().map_or_else(
                    || "sweep".to_owned(),
                    |stem| stem.to_string_lossy().into_owned(),
                );
                (
                    path.with_file_name(format!("{stem}-pools-{pool_count}.svg")),
                    format!(
                        "braid bench --workload {} --pools {pool_count} --txs {}",
                        args.workload, args.txs
                    ),
                )
            } else {
                (
                    path.clone(),
                    format!(
                        "braid bench --workload {} --txs {}",
                        args.workload, args.txs
                    ),
                )
            };
            let subset: Vec<_> = points
                .iter()
                .filter(|point| point.pools == pool_count)
                .cloned()
                .collect();
            plot_svg(&subset, &path, &title).map_err(|e| format!("bench sweep failed: {e}"))?;
            plots.push(path);
        }
    }
    let mut text = String::from("pools  threads  hot_ratio          TPS  state_hash");
    for point in &points {
        text.push_str(&format!(
            "\n{:>5}  {:>7}  {:>9.2}  {:>11.0}  {}",
            point.pools, point.threads, point.hot_ratio, point.report.tps, point.report.state_hash
        ));
        for sim in &point.report.simulated {
            text.push_str(&format!(
                "\n{:>5}  simulated {:>2} threads: speedup {:.2} (policy {:.2}) of bound {:.2}",
                "", sim.threads, sim.speedup, sim.policy_speedup, sim.bound
            ));
        }
    }
    for path in &plots {
        text.push_str(&format!("\nplot written to {}", path.display()));
    }
    let json = serde_json::json!({
        "sweep": serde_json::to_value(&points).map_err(|e| format!("bench report: {e}"))?,
        "plot": args.plot.as_ref().map(|path| path.display().to_string()),
        "plots": plots.iter().map(|path| path.display().to_string()).collect::<Vec<_>>(),
    });
    Ok(Output { text, json })
}

/// `braid bench --rpc-url URL … --faucet FILE`: the load against a running node. Progress
/// goes to stderr whatever the output format: a remote setup can take a while.
fn bench_remote(args: &BenchArgs, config: &BenchConfig) -> Result<Output, String> {
    let path = args
        .faucet
        .as_ref()
        .ok_or("--rpc-url needs --faucet KEYPAIR_FILE")?;
    let faucet = read_keypair_file(path)
        .map_err(|e| format!("cannot use faucet keypair {}: {e}", path.display()))?;
    let target = braid_benches::remote::RemoteTarget {
        urls: args.rpc_url.clone(),
        faucet,
    };
    let bars = progress::PhaseProgress::new(true);
    let progress = |phase: &str, done: u64, total: u64| bars.update(phase, done, total);
    let report = braid_benches::remote::run(config, &target, &progress)
        .map_err(|e| format!("bench failed: {e}"))?;
    bars.finish();
    let json = serde_json::to_value(&report).map_err(|e| format!("bench report: {e}"))?;
    let text = report.to_text();
    Ok(Output { text, json })
}

fn bench(args: &BenchArgs, format: OutputFormat) -> Result<Output, String> {
    let config = braid_benches::BenchConfig {
        workload: args.workload,
        accounts: args.accounts,
        pools: args.pools,
        hot_ratio: args.hot_ratio,
        txs: args.txs,
        threads: args.threads,
        seed: args.seed,
        sigverify: !args.no_sigverify,
        serial: args.serial,
        ledger: args.ledger.clone(),
        bad_signatures: args.bad_signatures,
        simulate_threads: args.simulate_threads.clone(),
        open_loop: match (args.rate, args.duration) {
            (Some(rate), Some(seconds)) => Some(braid_benches::open_loop::OpenLoop {
                rate,
                duration: std::time::Duration::try_from_secs_f64(seconds)
                    .map_err(|_| format!("--duration {seconds}: not a number of seconds"))?,
            }),
            _ => None,
        },
        ..braid_benches::BenchConfig::default()
    };
    if !args.rpc_url.is_empty() {
        return bench_remote(args, &config);
    }
    let show_progress = format == OutputFormat::Display;
    let bars = progress::PhaseProgress::new(show_progress);
    let progress = |phase: &str, done: u64, total: u64| bars.update(phase, done, total);
    if args.sweep {
        return bench_sweep(args, &config, &progress, &bars);
    }
    let report =
        braid_benches::run(&config, &progress).map_err(|e| format!("bench failed: {e}"))?;
    bars.finish();
    let json = serde_json::to_value(&report).map_err(|e| format!("bench report: {e}"))?;
    let text = report.to_text();
    Ok(Output { text, json })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_flags_default_to_the_library_defaults() {
        let cli = Cli::try_parse_from(["braid", "bench"]).unwrap();
        let Command::Bench(args) = cli.command else {
            panic!("parsed another command")
        };
        let library = BenchConfig::default();
        assert_eq!(
            (
                args.workload,
                args.accounts,
                args.pools,
                args.txs,
                args.threads,
                args.seed
            ),
            (
                library.workload,
                library.accounts,
                library.pools,
                library.txs,
                library.threads,
                library.seed
            )
        );
        assert_eq!(args.hot_ratio.to_bits(), library.hot_ratio.to_bits());
    }

    #[test]
    fn remote_bench_flags_conflict_only_when_given() {
        let parse = |extra: &[&str]| {
            let mut args = vec![
                "braid",
                "bench",
                "--rpc-url",
                "http://127.0.0.1:8899",
                "--rpc-url",
                "http://127.0.0.1:8901",
                "--faucet",
                "faucet.json",
            ];
            args.extend_from_slice(extra);
            Cli::try_parse_from(args)
        };
        // --threads and --bad-signatures have defaults: they conflict only when given.
        let Command::Bench(args) = parse(&["--txs", "5"]).unwrap().command else {
            panic!("parsed another command")
        };
        assert_eq!(args.rpc_url.len(), 2);
        assert_eq!(args.threads, BenchConfig::default().threads);
        for extra in [
            &["--threads", "2"][..],
            &["--bad-signatures", "0.5"],
            &["--serial"],
        ] {
            let error = parse(extra).err().expect("a conflict");
            assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
        }
    }

    #[test]
    fn arguments_parse() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn sol_formats_exactly() {
        assert_eq!(sol(1_500_000_000), "1.5");
        assert_eq!(sol(2_000_000_000), "2");
        assert_eq!(sol(1), "0.000000001");
    }
}
