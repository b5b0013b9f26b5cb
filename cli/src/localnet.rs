//! `braid localnet`, and what `braid node` needs to join a network: reading the genesis and
//! keys `braid genesis` wrote. A localnet is N `braid node` processes on loopback, so a
//! validator can be killed, paused or restarted like any process.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use braid_ledger::genesis::{GENESIS_FILE_NAME, Genesis};
use braid_node::ConsensusSetup;
use braid_runtime::keypair::read_keypair_file;
use serde_json::json;

use crate::Output;

/// The first validator's p2p port in a localnet.
pub const P2P_PORT_DEFAULT: u16 = 27_100;
/// How long a stopping validator gets to commit and exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// What `braid node --genesis … --identity … --p2p …` joins with.
pub fn setup(
    genesis: &Path,
    identity: &Path,
    p2p: SocketAddr,
    peers: Vec<SocketAddr>,
    peer_rpc: Vec<String>,
    faucet: Option<PathBuf>,
) -> Result<ConsensusSetup, String> {
    let bytes =
        std::fs::read(genesis).map_err(|e| format!("cannot read {}: {e}", genesis.display()))?;
    let genesis = Genesis::decode(&bytes, genesis).map_err(|e| e.to_string())?;
    let identity = read_keypair_file(identity).map_err(|e| format!("identity: {e}"))?;
    let faucet = faucet
        .map(read_keypair_file)
        .transpose()
        .map_err(|e| format!("faucet: {e}"))?;
    Ok(ConsensusSetup {
        genesis,
        identity,
        p2p,
        peers,
        faucet,
        peer_rpc,
    })
}

/// One validator process of a localnet.
struct Member {
    child: Child,
    rpc_url: String,
}

/// The first validator's ports; validator I's are these plus 2·I (RPC, PubSub after it) and
/// I (p2p, ingestion).
pub struct Ports {
    /// JSON-RPC.
    pub rpc: u16,
    /// Consensus p2p.
    pub p2p: u16,
    /// Binary ingestion, if served.
    pub ingest: Option<u16>,
}

/// Runs `validators` validators from `dir` until Ctrl-C, writing the network there first
/// if it holds none.
pub fn run(validators: usize, dir: &Path, ports: Ports) -> Result<Output, String> {
    let Ports {
        rpc: rpc_port,
        p2p: p2p_port,
        ingest: ingest_port,
    } = ports;
    if !dir.join(GENESIS_FILE_NAME).exists() {
        braid_node::create_network(
            dir,
            validators,
            &braid_builtins::registry(),
            braid_node::FAUCET_LAMPORTS_DEFAULT,
        )
        .map_err(|e| format!("cannot write the network: {e}"))?;
    }
    let port = |base: u16, step: usize, index: usize| {
        index
            .checked_mul(step)
            .and_then(|offset| u16::try_from(offset).ok())
            .and_then(|offset| base.checked_add(offset))
            .ok_or_else(|| format!("validator {index}'s port is past 65535"))
    };
    let mut p2p = Vec::with_capacity(validators);
    let mut rpc_ports = Vec::with_capacity(validators);
    for index in 0..validators {
        rpc_ports.push(port(rpc_port, 2, index)?);
        if !braid_node::validator_identity_file(dir, index).exists() {
            return Err(format!(
                "{} has no identity for validator {index}: the network has fewer validators",
                dir.display()
            ));
        }
        p2p.push(SocketAddr::from((
            Ipv4Addr::LOCALHOST,
            port(p2p_port, 1, index)?,
        )));
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find braid itself: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let handler_stop = Arc::clone(&stop);
    ctrlc::set_handler(move || handler_stop.store(true, Ordering::Release))
        .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
    let mut members: Vec<Member> = Vec::with_capacity(validators);
    for index in 0..validators {
        let rpc = rpc_ports[index];
        let log_path = dir.join(format!("validator-{index}.log"));
        let log = std::fs::File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut command = Command::new(&exe);
        command
            .arg("node")
            .arg("--ledger")
            .arg(dir.join(format!("ledger-{index}")))
            .arg("--rpc-port")
            .arg(rpc.to_string())
            .arg("--genesis")
            .arg(dir.join(GENESIS_FILE_NAME))
            .arg("--identity")
            .arg(braid_node::validator_identity_file(dir, index))
            .arg("--faucet")
            .arg(dir.join(braid_node::FAUCET_FILE_NAME))
            .arg("--p2p")
            .arg(p2p[index].to_string());
        if let Some(base) = ingest_port {
            command
                .arg("--ingest-port")
                .arg(port(base, 1, index)?.to_string());
        }
        for (other, address) in p2p.iter().enumerate() {
            if other != index {
                command.arg("--peer").arg(address.to_string());
                command
                    .arg("--peer-rpc")
                    .arg(format!("http://127.0.0.1:{}", rpc_ports[other]));
            }
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn();
        match child {
            Ok(child) => members.push(Member {
                child,
                rpc_url: format!("http://127.0.0.1:{rpc}"),
            }),
            Err(e) => {
                stop_all(&mut members);
                return Err(format!("cannot start validator {index}: {e}"));
            }
        }
    }
    let urls: Vec<String> = members.iter().map(|m| m.rpc_url.clone()).collect();
    for (index, url) in urls.iter().enumerate() {
        crate::print_line(&format!("validator {index}: {url}"));
    }
    crate::print_line(&format!(
        "logs: {}/validator-I.log; Ctrl-C stops the network",
        dir.display()
    ));
    let mut exited = None;
    while !stop.load(Ordering::Acquire) && exited.is_none() {
        std::thread::sleep(Duration::from_millis(200));
        for (index, member) in members.iter_mut().enumerate() {
            if let Ok(Some(status)) = member.child.try_wait() {
                exited = Some((index, status));
                break;
            }
        }
    }
    stop_all(&mut members);
    if let Some((index, status)) = exited {
        return Err(format!(
            "validator {index} exited ({status}); see {}/validator-{index}.log",
            dir.display()
        ));
    }
    Ok(Output {
        text: format!("localnet of {validators} validators stopped"),
        json: json!({ "validators": validators, "rpc_urls": urls, "stopped": true }),
    })
}

/// Asks every validator to stop (SIGINT: each commits and exits), then kills stragglers.
fn stop_all(members: &mut [Member]) {
    for member in members.iter() {
        if let Ok(pid) = i32::try_from(member.child.id()) {
            // SAFETY: sending a signal to a child process we started; no memory involved.
            unsafe {
                libc::kill(pid, libc::SIGINT);
            }
        }
    }
    let started = Instant::now();
    for member in members.iter_mut() {
        while started.elapsed() < STOP_GRACE {
            if let Ok(Some(_)) = member.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = member.child.kill();
        let _ = member.child.wait();
    }
}
