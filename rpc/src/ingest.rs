//! The binary ingestion port: wire transactions over TCP without JSON, for load generators
//! and clients that send many (Solana's TPU port plays this role).
//!
//! A client writes frames, each a transaction's wire bytes after their length as a
//! little-endian `u16` (1 to [`INGEST_FRAME_BYTES_MAX`] bytes). The node answers every frame
//! with one byte, in order ([`Verdict`]), as `sendTransaction` with `skipPreflight` would:
//! the transaction is handed to the node's sigverify stage (or a validator's pool, and on
//! to its peers), or refused. A frame out of bounds is answered
//! [`Verdict::Malformed`] and ends the connection: the stream cannot be resynchronised.
//!
//! At most [`INGEST_CONNECTIONS_MAX`] connections are served at once, each on a thread of its
//! own; one more is closed at once. A connection whose client sends nothing, or reads none
//! of its verdicts, for [`INGEST_IDLE`] is closed. (A client that trickles a byte now and
//! then keeps its connection: the port is for trusted load generators and clients; there
//! is no per-address cap yet.)

use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use braid_interfaces::SubmitError;

/// Most bytes one frame carries: Solana's packet size, the largest transaction.
pub const INGEST_FRAME_BYTES_MAX: usize = braid_runtime::sanitized::PACKET_DATA_BYTES_MAX;
/// Connections served at once.
pub const INGEST_CONNECTIONS_MAX: usize = 16;
/// How long a connection may stay silent before it is closed.
pub const INGEST_IDLE: Duration = Duration::from_secs(30);

/// Most transactions a client should send in one [`IngestClient::send_batch`].
pub const INGEST_BATCH_MAX: usize = 1_024;

const _: () = assert!(INGEST_FRAME_BYTES_MAX <= u16::MAX as usize);

/// The node's answer to one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Verdict {
    /// Taken: it is verified, executed and reported like any other.
    Accepted = 0,
    /// The node is full: send it again later.
    Busy = 1,
    /// It can never land (malformed, or its fee payer cannot pay) and was not taken.
    Refused = 2,
    /// The node has stopped taking transactions.
    Stopped = 3,
    /// The frame's length is out of bounds; the connection ends.
    Malformed = 4,
}

impl Verdict {
    /// The verdict a byte stands for, if any.
    pub fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0 => Self::Accepted,
            1 => Self::Busy,
            2 => Self::Refused,
            3 => Self::Stopped,
            4 => Self::Malformed,
            _ => return None,
        })
    }

    fn of(result: Result<(), SubmitError>) -> Self {
        match result {
            Ok(()) => Self::Accepted,
            Err(SubmitError::Busy) => Self::Busy,
            Err(SubmitError::Refused(_)) => Self::Refused,
            Err(SubmitError::Stopped | SubmitError::Failed) => Self::Stopped,
        }
    }
}

/// What the port hands each transaction to.
pub type Submit = dyn Fn(Vec<u8>) -> Result<(), SubmitError> + Send + Sync;

/// Serves one connection: reads frames from `reader` until it ends or a frame is malformed,
/// hands each transaction to `submit` and answers it on `writer` (flushed whenever no more
/// input is waiting). Returns the frames answered.
pub fn serve_connection<R: Read, W: Write>(
    reader: R,
    writer: W,
    submit: &dyn Fn(Vec<u8>) -> Result<(), SubmitError>,
) -> std::io::Result<u64> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut writer = BufWriter::with_capacity(4 * 1024, writer);
    let mut answered = 0u64;
    loop {
        let mut length = [0u8; 2];
        match reader.read_exact(&mut length) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(error) => return Err(error),
        }
        let length = usize::from(u16::from_le_bytes(length));
        if length == 0 || length > INGEST_FRAME_BYTES_MAX {
            writer.write_all(&[Verdict::Malformed as u8])?;
            writer.flush()?;
            return Ok(answered.saturating_add(1));
        }
        let mut wire = vec![0u8; length];
        match reader.read_exact(&mut wire) {
            Ok(()) => {}
            // A frame cut short by the end of the stream is not answered.
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(error) => return Err(error),
        }
        writer.write_all(&[Verdict::of(submit(wire)) as u8])?;
        answered = answered.saturating_add(1);
        if reader.buffer().is_empty() {
            writer.flush()?;
        }
    }
    writer.flush()?;
    Ok(answered)
}

/// An open connection: its socket, to shut it down, and its thread.
type Connection = (TcpStream, JoinHandle<()>);

/// A running ingestion port; stops when dropped or [`IngestServer::stop`]ped.
pub struct IngestServer {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    /// Open connections: their sockets (to shut them down) and threads.
    connections: Arc<std::sync::Mutex<Vec<Connection>>>,
}

impl IngestServer {
    /// Serves each connection `listener` takes on its own thread. (Bound by the caller, so
    /// a node knows the address before it has anything to submit to.)
    pub fn start(listener: TcpListener, submit: Arc<Submit>) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let open = Arc::new(AtomicUsize::new(0));
        let connections: Arc<std::sync::Mutex<Vec<Connection>>> =
            Arc::new(std::sync::Mutex::new(Vec::new()));
        let registry = Arc::clone(&connections);
        let stop = Arc::clone(&stopping);
        let acceptor = std::thread::Builder::new()
            .name("braid-ingest".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    let Ok(stream) = stream else {
                        // Out of descriptors, say: wait rather than spin.
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    if open.fetch_add(1, Ordering::AcqRel) >= INGEST_CONNECTIONS_MAX {
                        open.fetch_sub(1, Ordering::AcqRel);
                        continue;
                    }
                    let Ok(handle) = stream.try_clone() else {
                        open.fetch_sub(1, Ordering::AcqRel);
                        continue;
                    };
                    let (submit, count) = (Arc::clone(&submit), Arc::clone(&open));
                    let spawned = std::thread::Builder::new()
                        // Numbered like every pool's threads: one group, `braid-ingest`.
                        .name(format!("braid-ingest-{}", open.load(Ordering::Acquire)))
                        .spawn(move || {
                            let _ = serve_stream(stream, &*submit);
                            count.fetch_sub(1, Ordering::AcqRel);
                        });
                    let mut registry = registry.lock().unwrap_or_else(|poison| poison.into_inner());
                    // Forget the connections that ended, keep this one.
                    registry.retain(|(_, thread)| !thread.is_finished());
                    match spawned {
                        Ok(thread) => registry.push((handle, thread)),
                        Err(_) => {
                            open.fetch_sub(1, Ordering::AcqRel);
                        }
                    }
                }
            })?;
        Ok(Self {
            addr,
            stopping,
            acceptor: Some(acceptor),
            connections,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops taking connections, closes those open and waits for their threads, so nothing
    /// submits after it returns.
    pub fn stop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let open = std::mem::take(
            &mut *self
                .connections
                .lock()
                .unwrap_or_else(|poison| poison.into_inner()),
        );
        for (socket, thread) in open {
            let _ = socket.shutdown(std::net::Shutdown::Both);
            let _ = thread.join();
        }
    }
}

impl Drop for IngestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve_stream(stream: TcpStream, submit: &Submit) -> std::io::Result<u64> {
    stream.set_read_timeout(Some(INGEST_IDLE))?;
    // A client that does not read its verdicts is dropped, not waited on.
    stream.set_write_timeout(Some(INGEST_IDLE))?;
    stream.set_nodelay(true)?;
    let writer = stream.try_clone()?;
    serve_connection(stream, writer, submit)
}

/// A client of the ingestion port: sends transactions in batches and reads their verdicts.
pub struct IngestClient {
    writer: BufWriter<TcpStream>,
    reader: BufReader<TcpStream>,
}

impl IngestClient {
    /// Connects to a node's ingestion port.
    pub fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(INGEST_IDLE))?;
        Ok(Self {
            writer: BufWriter::with_capacity(64 * 1024, stream.try_clone()?),
            reader: BufReader::new(stream),
        })
    }

    /// Sends `wires` and returns each one's verdict, in order. A wire out of the frame
    /// bounds is an `InvalidInput` error before anything is sent. Every frame is written
    /// before any verdict is read, so a batch must fit the sockets' buffers (a few thousand
    /// transactions; `braid bench` sends at most [`INGEST_BATCH_MAX`]). After an error the
    /// connection's verdicts are out of step: connect again.
    pub fn send_batch<W: AsRef<[u8]>>(&mut self, wires: &[W]) -> std::io::Result<Vec<Verdict>> {
        if wires.len() > INGEST_BATCH_MAX {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{} transactions, more than {INGEST_BATCH_MAX} a batch",
                    wires.len()
                ),
            ));
        }
        for wire in wires {
            let wire = wire.as_ref();
            if wire.is_empty() || wire.len() > INGEST_FRAME_BYTES_MAX {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "a transaction of {} bytes does not fit a frame (1 to {INGEST_FRAME_BYTES_MAX})",
                        wire.len()
                    ),
                ));
            }
        }
        for wire in wires {
            let wire = wire.as_ref();
            let length = u16::try_from(wire.len()).unwrap_or(u16::MAX);
            self.writer.write_all(&length.to_le_bytes())?;
            self.writer.write_all(wire)?;
        }
        self.writer.flush()?;
        let mut verdicts = vec![0u8; wires.len()];
        self.reader.read_exact(&mut verdicts)?;
        verdicts
            .into_iter()
            .map(|byte| {
                Verdict::from_byte(byte).ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("the node answered {byte}, which is no verdict"),
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_runtime::TransactionError;
    use std::sync::Mutex;

    fn frames(wires: &[&[u8]]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for wire in wires {
            bytes.extend_from_slice(&(wire.len() as u16).to_le_bytes());
            bytes.extend_from_slice(wire);
        }
        bytes
    }

    #[test]
    fn every_frame_is_answered_in_order_with_its_verdict() {
        let taken = Mutex::new(Vec::new());
        let submit = |wire: Vec<u8>| -> Result<(), SubmitError> {
            let first = wire[0];
            taken.lock().unwrap().push(wire);
            match first {
                0 => Ok(()),
                1 => Err(SubmitError::Busy),
                2 => Err(SubmitError::Refused(TransactionError::SignatureFailure)),
                _ => Err(SubmitError::Stopped),
            }
        };
        let input = frames(&[&[0, 9], &[1], &[2, 2, 2], &[3]]);
        let mut output = Vec::new();
        let answered = serve_connection(input.as_slice(), &mut output, &submit).unwrap();
        assert_eq!(answered, 4);
        assert_eq!(output, vec![0, 1, 2, 3]);
        assert_eq!(taken.lock().unwrap()[0], vec![0, 9]);
    }

    #[test]
    fn a_frame_out_of_bounds_ends_the_connection_and_a_cut_one_is_not_answered() {
        let submit = |_: Vec<u8>| -> Result<(), SubmitError> { Ok(()) };
        let mut input = frames(&[&[0]]);
        input.extend_from_slice(&((INGEST_FRAME_BYTES_MAX + 1) as u16).to_le_bytes());
        input.extend_from_slice(&frames(&[&[0]]));
        let mut output = Vec::new();
        serve_connection(input.as_slice(), &mut output, &submit).unwrap();
        assert_eq!(output, vec![0, Verdict::Malformed as u8]);

        let mut output = Vec::new();
        serve_connection(&[0u8, 0][..], &mut output, &submit).unwrap();
        assert_eq!(output, vec![Verdict::Malformed as u8]);

        let mut cut = frames(&[&[0]]);
        cut.extend_from_slice(&[5, 0, 1, 2]);
        let mut output = Vec::new();
        serve_connection(cut.as_slice(), &mut output, &submit).unwrap();
        assert_eq!(output, vec![0]);
    }

    #[test]
    fn a_client_and_a_server_over_tcp() {
        let submit: Arc<Submit> = Arc::new(|wire: Vec<u8>| {
            if wire.len() > 3 {
                Err(SubmitError::Busy)
            } else {
                Ok(())
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut server = IngestServer::start(listener, submit).unwrap();
        let mut client = IngestClient::connect(server.addr()).unwrap();
        let verdicts = client
            .send_batch(&[vec![1u8], vec![1, 2, 3, 4], vec![5, 6]])
            .unwrap();
        assert_eq!(
            verdicts,
            vec![Verdict::Accepted, Verdict::Busy, Verdict::Accepted]
        );
        let too_long = vec![0u8; INGEST_FRAME_BYTES_MAX + 1];
        assert_eq!(
            client.send_batch(&[too_long]).unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
        server.stop();
    }
}
