//! The DeFi commands through the `braid` binary against a `braid node` subprocess: an AMM
//! pool with swaps (and a slippage failure), an insurance policy paid out after a price
//! fall, and a lending deposit, borrow and repayment.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const BRAID: &str = env!("CARGO_BIN_EXE_braid");

/// A `braid node` child on a free port with its own ledger, killed when dropped.
struct Node {
    child: Child,
    url: String,
    /// Kept open so the node's later output never meets a closed pipe.
    _stdout: BufReader<std::process::ChildStdout>,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger");
        let mut child = Command::new(BRAID)
            .args(["node", "--ledger", path(&ledger), "--rpc-port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "first line: {line:?}");
        Self {
            child,
            url,
            _stdout: reader,
            _dir: dir,
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn path(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// A funded keypair talking to one node.
struct User {
    url: String,
    keypair: String,
    _dir: tempfile::TempDir,
}

impl User {
    fn new(node: &Node) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keypair = path(&dir.path().join("id.json")).to_owned();
        let user = Self {
            url: node.url.clone(),
            keypair,
            _dir: dir,
        };
        let made = user.run(&["keygen", "new", "-o", &user.keypair.clone()]);
        assert!(made.status.success());
        user.ok(&["airdrop", "100000000000"]);
        user
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BRAID)
            .args(["-u", &self.url, "-k", &self.keypair, "--output", "json"])
            .args(args)
            .output()
            .expect("braid runs")
    }

    /// Runs a command expected to succeed and parses its one JSON object.
    fn ok(&self, args: &[&str]) -> Value {
        let output = self.run(args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e}): {stdout}"))
    }

    /// Runs a command expected to fail and returns its single stderr line.
    fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(!output.status.success(), "{args:?} should fail");
        assert!(output.stdout.is_empty(), "nothing on stdout");
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }

    /// The `field` of a successful command's JSON, as a string.
    fn key(&self, args: &[&str], field: &str) -> String {
        let value = self.ok(args);
        value[field]
            .as_str()
            .unwrap_or_else(|| panic!("{args:?}: no {field} in {value}"))
            .to_owned()
    }

    fn mint(&self, decimals: &str) -> String {
        self.key(&["token", "create-mint", "--decimals", decimals], "mint")
    }

    /// A new token account of `mint` for the keypair, holding `amount` (the keypair is the
    /// mint authority).
    fn funded(&self, mint: &str, amount: u64) -> String {
        let account = self.key(&["token", "create-account", mint], "account");
        if amount > 0 {
            self.ok(&["token", "mint", mint, &account, &amount.to_string()]);
        }
        account
    }

    fn balance(&self, account: &str) -> u64 {
        self.ok(&["token", "balance", account])["amount"]
            .as_u64()
            .unwrap()
    }
}

#[test]
fn amm_pool_swap_and_slippage() {
    let node = Node::start();
    let alice = User::new(&node);
    let (mint_a, mint_b) = (alice.mint("6"), alice.mint("6"));
    let a = alice.funded(&mint_a, 2_000_000);
    let b = alice.funded(&mint_b, 4_000_000);

    let pool = alice.ok(&[
        "amm",
        "create-pool",
        "--mint-a",
        &mint_a,
        "--mint-b",
        &mint_b,
        "--amount-a",
        "1000000",
        "--amount-b",
        "2000000",
        "--source-a",
        &a,
        "--source-b",
        &b,
    ]);
    let address = pool["pool"].as_str().unwrap().to_owned();
    let lp = pool["lp_account"].as_str().unwrap().to_owned();
    assert_eq!(pool["lp_tokens"], 1_000_000_000, "{pool}");
    assert_eq!(alice.balance(&lp), 1_000_000_000);
    assert_eq!(
        (alice.balance(&a), alice.balance(&b)),
        (1_000_000, 2_000_000)
    );
    assert!(pool["signature"].is_string());

    // 60_000 A in, at the default fees (0.25% + 0.05%): 59_820 reach the curve,
    // out = 2_000_000 - ceil(2e12 / 1_059_820) = 112_887.
    let swap = alice.ok(&[
        "amm",
        "swap",
        "--pool",
        &address,
        "--source",
        &a,
        "--destination",
        &b,
        "--amount",
        "60000",
        "--min-out",
        "100000",
    ]);
    assert_eq!(swap["direction"], "AtoB", "{swap}");
    assert_eq!(swap["received"], 112_887, "{swap}");
    assert_eq!(alice.balance(&a), 940_000);
    assert_eq!(alice.balance(&b), 2_112_887);

    // The other way: direction follows the source account's mint.
    let back = alice.ok(&[
        "amm",
        "swap",
        "--pool",
        &address,
        "--source",
        &b,
        "--destination",
        &a,
        "--amount",
        "1000",
    ]);
    assert_eq!(back["direction"], "BtoA", "{back}");
    assert!(back["received"].as_u64().unwrap() > 0);
    let (a_now, b_now) = (alice.balance(&a), alice.balance(&b));

    // Asking for more than the whole reserve: one readable line, nothing moves.
    let refused = alice.fails(&[
        "amm",
        "swap",
        "--pool",
        &address,
        "--source",
        &a,
        "--destination",
        &b,
        "--amount",
        "1000",
        "--min-out",
        "999999999",
    ]);
    assert!(refused.contains("swap failed"), "{refused}");
    assert!(refused.contains("slippage"), "{refused}");
    assert!(refused.contains("AmmError::SlippageExceeded"), "{refused}");
    assert_eq!((alice.balance(&a), alice.balance(&b)), (a_now, b_now));

    // Withdraw a tenth of the LP supply, then deposit it back.
    let out = alice.ok(&[
        "amm",
        "withdraw",
        "--pool",
        &address,
        "--pool-tokens",
        "100000000",
        "--token-a",
        &a,
        "--token-b",
        &b,
        "--lp-account",
        &lp,
    ]);
    assert!(out["received_a"].as_u64().unwrap() > 90_000, "{out}");
    assert_eq!(alice.balance(&lp), 900_000_000);
    let deposit = alice.ok(&[
        "amm",
        "deposit",
        "--pool",
        &address,
        "--pool-tokens",
        "100000000",
        "--max-a",
        "200000",
        "--max-b",
        "300000",
        "--token-a",
        &a,
        "--token-b",
        &b,
        "--lp-account",
        &lp,
    ]);
    assert_eq!(deposit["lp_balance"], 1_000_000_000, "{deposit}");

    // A source of neither mint is a user mistake, not a transaction.
    let other = alice.funded(&alice.mint("6"), 10);
    let wrong = alice.fails(&[
        "amm",
        "swap",
        "--pool",
        &address,
        "--source",
        &other,
        "--destination",
        &b,
        "--amount",
        "1",
    ]);
    assert!(wrong.contains("does not trade"), "{wrong}");
}

#[test]
fn insurance_underwrite_buy_crash_claim() {
    let node = Node::start();
    let user = User::new(&node);
    let usd = user.mint("6");
    let capital = user.funded(&usd, 1_000_000);
    let feed = user.key(&["oracle", "create-feed", "--exponent", "-6"], "feed");
    user.ok(&["oracle", "set-price", &feed, "2000000"]);

    let pool = user.key(
        &["insurance", "init-pool", "--mint", &usd, "--feed", &feed],
        "pool",
    );
    let underwritten = user.ok(&[
        "insurance",
        "underwrite",
        "--pool",
        &pool,
        "--source",
        &capital,
        "--amount",
        "90000",
    ]);
    assert_eq!(underwritten["shares"], 90_000, "{underwritten}");

    // 10_000 of cover at a strike of 1.5: premium 2.5% = 250.
    let policy = user.ok(&[
        "insurance",
        "buy",
        "--pool",
        &pool,
        "--source",
        &capital,
        "--coverage",
        "10000",
        "--strike",
        "1500000",
        "--expires-in",
        "1000",
    ]);
    assert_eq!(policy["premium"], 250, "{policy}");
    assert_eq!(policy["policy_id"], 0, "{policy}");
    assert_eq!(user.balance(&capital), 1_000_000 - 90_000 - 250);

    // Above the strike, a claim is refused with the program's reason.
    let early = user.fails(&[
        "insurance",
        "claim",
        "--pool",
        &pool,
        "--policy-id",
        "0",
        "--destination",
        &capital,
    ]);
    assert!(
        early.contains("InsuranceError::StrikeNotReached"),
        "{early}"
    );

    user.ok(&["oracle", "set-price", &feed, "1400000"]);
    let claim = user.ok(&[
        "insurance",
        "claim",
        "--pool",
        &pool,
        "--policy-id",
        "0",
        "--destination",
        &capital,
    ]);
    assert_eq!(claim["paid"], 10_000, "{claim}");
    assert_eq!(user.balance(&capital), 1_000_000 - 90_000 - 250 + 10_000);
}

#[test]
fn lending_reserve_deposit_borrow_repay() {
    let node = Node::start();
    let user = User::new(&node);
    let usd = user.mint("6");
    let wallet = user.funded(&usd, 10_000_000);
    let feed = user.key(&["oracle", "create-feed", "--exponent", "-6"], "feed");
    user.ok(&["oracle", "set-price", &feed, "1000000"]);

    let reserve = user.ok(&[
        "lending",
        "init-reserve",
        "--mint",
        &usd,
        "--feed",
        &feed,
        "--source",
        &wallet,
        "--amount",
        "1000000",
    ]);
    let address = reserve["reserve"].as_str().unwrap().to_owned();
    assert_eq!(user.balance(&wallet), 9_000_000);

    // 2 tokens of collateral at LTV 50% allow 1 token of debt.
    let deposit = user.ok(&[
        "lending",
        "deposit",
        "--reserve",
        &address,
        "--source",
        &wallet,
        "--amount",
        "2000000",
    ]);
    assert_eq!(deposit["collateral_minted"], 2_000_000, "{deposit}");
    let obligation = deposit["obligation"].as_str().unwrap().to_owned();
    assert_eq!(user.balance(&wallet), 7_000_000);

    let too_much = user.fails(&[
        "lending",
        "borrow",
        "--reserve",
        &address,
        "--obligation",
        &obligation,
        "--destination",
        &wallet,
        "--amount",
        "1500000",
    ]);
    assert!(
        too_much.contains("LendingError::BorrowTooLarge"),
        "{too_much}"
    );

    user.ok(&[
        "lending",
        "borrow",
        "--reserve",
        &address,
        "--obligation",
        &obligation,
        "--destination",
        &wallet,
        "--amount",
        "900000",
    ]);
    assert_eq!(user.balance(&wallet), 7_900_000);

    // Repaying more than the debt repays the debt plus the interest of a few slots.
    let repay = user.ok(&[
        "lending",
        "repay",
        "--reserve",
        &address,
        "--obligation",
        &obligation,
        "--source",
        &wallet,
        "--amount",
        "2000000",
    ]);
    let repaid = repay["repaid"].as_u64().unwrap();
    assert!((900_000..900_100).contains(&repaid), "{repay}");
    assert_eq!(user.balance(&wallet), 7_900_000 - repaid);

    // A healthy obligation cannot be liquidated.
    let healthy = user.fails(&[
        "lending",
        "liquidate",
        "--obligation",
        &obligation,
        "--repay-reserve",
        &address,
        "--withdraw-reserve",
        &address,
        "--source",
        &wallet,
        "--destination",
        deposit["collateral_account"].as_str().unwrap(),
        "--amount",
        "1",
    ]);
    assert!(healthy.contains("liquidate failed"), "{healthy}");
}
