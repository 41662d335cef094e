//! Native rustls client for `bench/run.js`: the "native rustls" column.
//!
//! Usage: `bench_client PORT CA_PEM SUITE MODE ARG`
//!
//! - `SUITE`: an IANA TLS 1.3 suite name (`TLS_AES_128_GCM_SHA256`,
//!   `TLS_AES_256_GCM_SHA384`, `TLS_CHACHA20_POLY1305_SHA256`) or `default`;
//!   the provider is built with only that suite, TLS 1.3 only.
//!
//! Every connection starts with the server's one-byte greeting `+`, sent once
//! the server has finished its side of the handshake. Modes:
//!
//! - `handshakes SECONDS`: sequential full handshakes (connect, handshake,
//!   greeting, drop) for SECONDS; prints the count and the elapsed time.
//! - `resumed SECONDS`: one full handshake for a ticket, then sequential
//!   resumed handshakes (each with the newest ticket) for SECONDS; prints the
//!   count of resumed ones (a full handshake among them is an error).
//! - `recv BYTES`: sends `recv BYTES\n`, reads exactly BYTES; prints the time.
//! - `send BYTES`: sends `send BYTES\n` then BYTES in 16 KiB writes, waits for
//!   the server's `ok\n`; prints the time.
//!
//! Output is one JSON line on stdout. Any mismatch in byte counts is an error
//! (non-zero exit), so a broken run fails loudly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::Resumption;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

const CHUNK: usize = 16 * 1024;
/// The byte the bench server sends once its side of the handshake is done.
const GREETING: u8 = b'+';

fn provider(suite: &str) -> CryptoProvider {
    let base = ring::default_provider();
    let cipher_suites = match suite {
        "default" => base
            .cipher_suites
            .iter()
            .copied()
            .filter(|s| s.tls13().is_some())
            .collect(),
        "TLS_AES_128_GCM_SHA256" => vec![ring::cipher_suite::TLS13_AES_128_GCM_SHA256],
        "TLS_AES_256_GCM_SHA384" => vec![ring::cipher_suite::TLS13_AES_256_GCM_SHA384],
        "TLS_CHACHA20_POLY1305_SHA256" => {
            vec![ring::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256]
        }
        other => panic!("unknown suite {other}"),
    };
    CryptoProvider {
        cipher_suites,
        ..base
    }
}

fn config(ca_path: &str, suite: &str, resume: bool) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_path).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    assert!(!roots.is_empty(), "no certificates in {ca_path}");
    let mut config = ClientConfig::builder_with_provider(Arc::new(provider(suite)))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    // Handshakes are full ones, as for the Node clients, except in `resumed`.
    if !resume {
        config.resumption = Resumption::disabled();
    }
    Arc::new(config)
}

fn connect(port: u16, config: &Arc<ClientConfig>) -> StreamOwned<ClientConnection, TcpStream> {
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_nodelay(true).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(config.clone(), name).unwrap();
    let mut stream = StreamOwned::new(conn, sock);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock).unwrap();
    }
    // The server's one-byte greeting: it has finished the handshake too.
    let mut greeting = [0u8; 1];
    stream.read_exact(&mut greeting).unwrap();
    assert_eq!(greeting[0], GREETING, "bad greeting from the server");
    stream
}

fn suite_name(stream: &StreamOwned<ClientConnection, TcpStream>) -> String {
    let suite = stream.conn.negotiated_cipher_suite().unwrap().suite();
    let version = stream.conn.protocol_version().unwrap();
    format!("{version:?} {suite:?}")
}

/// Sequential handshakes for `seconds`: full ones, or with `resume` (after one
/// full handshake for a ticket) resumed ones, each asserted.
fn handshakes(port: u16, config: &Arc<ClientConfig>, seconds: f64, resume: bool) {
    if resume {
        drop(connect(port, config));
    }
    let want = match resume {
        true => rustls::HandshakeKind::Resumed,
        false => rustls::HandshakeKind::Full,
    };
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut count = 0u64;
    let mut negotiated = String::new();
    while start.elapsed() < budget {
        let stream = connect(port, config);
        assert_eq!(
            stream.conn.handshake_kind(),
            Some(want),
            "unexpected handshake kind"
        );
        if count == 0 {
            negotiated = suite_name(&stream);
        }
        drop(stream);
        count += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let mode = if resume { "resumed" } else { "handshakes" };
    println!(r#"{{"mode":"{mode}","count":{count},"secs":{secs},"negotiated":"{negotiated}"}}"#);
}

fn recv(port: u16, config: &Arc<ClientConfig>, bytes: u64) {
    let mut stream = connect(port, config);
    let negotiated = suite_name(&stream);
    let mut buf = vec![0u8; 64 * 1024];
    let start = Instant::now();
    stream
        .write_all(format!("recv {bytes}\n").as_bytes())
        .unwrap();
    stream.flush().unwrap();
    let mut got = 0u64;
    while got < bytes {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "server closed after {got} of {bytes} bytes");
        got += n as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(got, bytes, "received more bytes than requested");
    stream.conn.send_close_notify();
    let _ = stream.flush();
    println!(r#"{{"mode":"recv","bytes":{got},"secs":{secs},"negotiated":"{negotiated}"}}"#);
}

fn send(port: u16, config: &Arc<ClientConfig>, bytes: u64) {
    let mut stream = connect(port, config);
    let negotiated = suite_name(&stream);
    let chunk = vec![0x61u8; CHUNK];
    let start = Instant::now();
    stream
        .write_all(format!("send {bytes}\n").as_bytes())
        .unwrap();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        stream.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    stream.flush().unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 64];
    while !reply.ends_with(b"\n") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "server closed before replying");
        reply.extend_from_slice(&buf[..n]);
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(reply, b"ok\n", "unexpected reply from server");
    stream.conn.send_close_notify();
    let _ = stream.flush();
    println!(r#"{{"mode":"send","bytes":{bytes},"secs":{secs},"negotiated":"{negotiated}"}}"#);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: bench_client PORT CA_PEM SUITE handshakes|resumed|recv|send ARG");
        std::process::exit(2);
    }
    let port: u16 = args[1].parse().unwrap();
    let config = config(&args[2], &args[3], args[4] == "resumed");
    match args[4].as_str() {
        "handshakes" => handshakes(port, &config, args[5].parse().unwrap(), false),
        "resumed" => handshakes(port, &config, args[5].parse().unwrap(), true),
        "recv" => recv(port, &config, args[5].parse().unwrap()),
        "send" => send(port, &config, args[5].parse().unwrap()),
        other => panic!("unknown mode {other}"),
    }
}
