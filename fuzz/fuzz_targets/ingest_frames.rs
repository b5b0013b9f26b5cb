//! Any byte stream on the binary ingestion port: the server never panics, hands over
//! exactly the frames a reference reading finds, answers each in order, and answers a
//! frame out of bounds with `Malformed` and nothing after it.

#![no_main]

use std::sync::Mutex;

use braid_interfaces::SubmitError;
use braid_rpc::ingest::{INGEST_FRAME_BYTES_MAX, Verdict, serve_connection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let taken = Mutex::new(Vec::new());
    let submit = |wire: Vec<u8>| -> Result<(), SubmitError> {
        let busy = wire.len() % 2 == 0;
        taken.lock().unwrap().push(wire);
        if busy { Err(SubmitError::Busy) } else { Ok(()) }
    };
    let mut output = Vec::new();
    let answered = serve_connection(data, &mut output, &submit).unwrap();
    assert_eq!(answered as usize, output.len());

    // The reference reading.
    let (mut expected_wires, mut expected_output) = (Vec::new(), Vec::new());
    let mut rest = data;
    while rest.len() >= 2 {
        let length = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        if length == 0 || length > INGEST_FRAME_BYTES_MAX {
            expected_output.push(Verdict::Malformed as u8);
            break;
        }
        let Some(wire) = rest.get(2..2 + length) else { break };
        expected_output.push(if length % 2 == 0 { Verdict::Busy } else { Verdict::Accepted } as u8);
        expected_wires.push(wire.to_vec());
        rest = &rest[2 + length..];
    }
    assert_eq!(*taken.lock().unwrap(), expected_wires);
    assert_eq!(output, expected_output);
});
