//! The record layer the engine keeps after handing records to the host
//! (`records::HostRecords`), driven by arbitrary calls in arbitrary order, as
//! a confused or hostile host and peer could make them: framing any bytes,
//! handing back any plaintext for any record, planning writes, closing,
//! exporting. Errors are expected; a panic, a hang or an allocation out of
//! proportion is a bug.
//!
//! Input: [mode][op, args...]...; mode bit 0: TLS 1.3 (else 1.2), bit 1: client.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rustls::crypto::cipher::{AeadKey, Iv};
use rustls::{ConnectionTrafficSecrets, ExtractedSecrets, ProtocolVersion};
use wasm_tls::records::{tls13_aes256_keys, HandshakeSecrets, HostRecords};

/// TLS 1.3: the keys the logged traffic secret gives (or the engine refuses
/// them); TLS 1.2: any.
fn secrets(tls13: bool, secret: &[u8]) -> Option<ConnectionTrafficSecrets> {
    match tls13 {
        true => tls13_aes256_keys(secret),
        false => Some(ConnectionTrafficSecrets::Aes256Gcm {
            key: AeadKey::from([secret[0]; 32]),
            iv: Iv::new([secret[0]; 12]),
        }),
    }
}

/// Takes `n` bytes (fewer at the end).
fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (head, rest) = data.split_at(n.min(data.len()));
    *data = rest;
    head
}

fn byte(data: &mut &[u8]) -> u8 {
    take(data, 1).first().copied().unwrap_or(0)
}

fn u16_of(data: &mut &[u8]) -> usize {
    usize::from(u16::from_be_bytes([byte(data), byte(data)]))
}

fuzz_target!(|input: &[u8]| {
    let mut data = input;
    let mode = byte(&mut data);
    let tls13 = mode & 1 != 0;
    let is_client = mode & 2 != 0;
    let version = if tls13 {
        ProtocolVersion::TLSv1_3
    } else {
        ProtocolVersion::TLSv1_2
    };
    let handshake = HandshakeSecrets {
        client_random: vec![1; 32],
        server_random: vec![2; 32],
        master_secret: vec![3; 48],
        client_traffic: vec![4; 48],
        server_traffic: vec![5; 48],
        exporter: vec![6; 48],
    };
    let (ours, theirs) = match is_client {
        true => (&handshake.client_traffic, &handshake.server_traffic),
        false => (&handshake.server_traffic, &handshake.client_traffic),
    };
    let (Some(tx), Some(rx)) = (secrets(tls13, ours), secrets(tls13, theirs)) else {
        return;
    };
    let extracted = ExtractedSecrets {
        tx: (0, tx),
        rx: (0, rx),
    };
    let Ok(mut records) = HostRecords::new(extracted, version, is_client, handshake) else {
        panic!("the fixture's secrets are consistent");
    };
    let mut jobs = Vec::new();
    let mut out = Vec::new();
    while !data.is_empty() {
        match byte(&mut data) % 8 {
            0 => {
                let n = usize::from(byte(&mut data) % 14);
                let head = take(&mut data, n);
                let available = u16_of(&mut data) * 2;
                let _ = records.frame(head, available);
            }
            1 => {
                let n = u16_of(&mut data) % 20_000;
                let plaintext = take(&mut data, n);
                let _ = records.opened(plaintext, &mut out);
            }
            2 => {
                let _ = records.opened_data(u16_of(&mut data));
            }
            3 => {
                let _ = records.open_failed();
            }
            4 => {
                let _ = records.write_plan(u16_of(&mut data) * 4);
            }
            5 => records.close(),
            6 => {
                let len = usize::from(byte(&mut data));
                let n = usize::from(byte(&mut data) % 64);
                let label = take(&mut data, n).to_vec();
                let n = usize::from(byte(&mut data) % 64);
                let context = take(&mut data, n).to_vec();
                let mut exported = vec![0; len];
                let _ = records.export_keying_material(&mut exported, &label, Some(&context));
            }
            _ => records.set_max_fragment(u16_of(&mut data)),
        }
        records.take_jobs(&mut jobs);
        // What a host holds stays in proportion to what it was given.
        assert!(jobs.len() < 64 * 1024 * 1024);
        jobs.clear();
        out.clear();
    }
});
