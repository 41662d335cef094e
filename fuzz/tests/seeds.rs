//! Writes the handshake seeds of the record targets: real client and server
//! flights captured between a wasm-tls client Engine and a wasm-tls server
//! (acceptor + Engine), in each target's input format. Run once, by hand:
//!   cargo test --release --manifest-path fuzz/Cargo.toml --test seeds -- --ignored
//! (the captures differ on each run: fresh randoms and keys).

use std::path::PathBuf;
use std::sync::Arc;

use wasm_tls::context::{ContextOptions, KeyInput, SecureContext};
use wasm_tls::engine::{ConnectOptions, Engine};
use wasm_tls::server::{AcceptOptions, ServerAcceptor};
use wasm_tls_fuzz::{client_context, server_context, CA_PEM, LEAF_KEY, LEAF_PEM, TICKET_KEYS};

/// Both directions of one connection, each as one byte stream.
#[derive(Default)]
struct Capture {
    to_server: Vec<u8>,
    to_client: Vec<u8>,
    sessions: Vec<Vec<u8>>,
}

fn connect(
    client_ctx: Arc<SecureContext>,
    connect: ConnectOptions,
    server_ctx: Arc<SecureContext>,
    accept: &AcceptOptions,
) -> Capture {
    let mut client = Engine::client(client_ctx, connect).expect("client");
    let mut acceptor = ServerAcceptor::default();
    let mut server: Option<Engine> = None;
    let mut capture = Capture::default();
    let (mut client_plain, mut server_plain, mut alert) = (Vec::new(), Vec::new(), Vec::new());
    let mut wrote = false;
    for _ in 0..20 {
        let mut out = Vec::new();
        client.take_output(&mut out);
        capture.to_server.extend_from_slice(&out);
        if !out.is_empty() {
            match server.as_mut() {
                None => {
                    if acceptor.receive(&out, &mut alert).expect("hello").is_some() {
                        server = Some(
                            acceptor
                                .accept(server_ctx.clone(), accept, &mut alert)
                                .expect("accept"),
                        );
                    }
                }
                Some(s) => {
                    s.receive(&out, &mut server_plain).expect("server receive");
                }
            }
        }
        let mut back = Vec::new();
        if let Some(s) = server.as_mut() {
            s.take_output(&mut back);
        }
        capture.to_client.extend_from_slice(&back);
        if !back.is_empty() {
            client
                .receive(&back, &mut client_plain)
                .expect("client receive");
        }
        let done = !client.is_handshaking() && server.as_ref().is_some_and(|s| !s.is_handshaking());
        if done && !wrote {
            wrote = true;
            client
                .write(b"hello from the client")
                .expect("client write");
            if let Some(s) = server.as_mut() {
                s.write(b"hello from the server").expect("server write");
                s.close();
            }
            client.close();
        } else if out.is_empty() && back.is_empty() && wrote {
            break;
        }
    }
    assert!(wrote, "handshake did not complete");
    capture.sessions = client.take_new_sessions();
    capture
}

fn context(options: ContextOptions) -> Arc<SecureContext> {
    Arc::new(SecureContext::new(&options).expect("context"))
}

fn server_with(extra: impl FnOnce(&mut ContextOptions)) -> Arc<SecureContext> {
    let mut options = ContextOptions {
        ca: Some(vec![CA_PEM.into()]),
        cert: Some(vec![format!("{LEAF_PEM}{CA_PEM}")]),
        key: Some(vec![KeyInput {
            pem: LEAF_KEY.into(),
            passphrase: None,
        }]),
        ticket_keys: Some(TICKET_KEYS.to_vec()),
        ..Default::default()
    };
    extra(&mut options);
    context(options)
}

fn write(target: &str, name: &str, header: &[u8], stream: &[u8]) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&dir).expect("corpus dir");
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(stream);
    std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("seed");
}

/// One scenario: `client_flags` / `server_flags` are the targets' flag bytes
/// that rebuild compatible options on the other side of the replay.
struct Scenario {
    name: &'static str,
    client_flags: u8,
    server_flags: [u8; 2],
    client_ctx: Arc<SecureContext>,
    connect: ConnectOptions,
    server_ctx: Arc<SecureContext>,
    accept: AcceptOptions,
}

fn alpn() -> Vec<String> {
    vec!["h2".into(), "http/1.1".into()]
}

/// ALPN both ways, SNI sent, an OCSP response stapled.
fn alpn_sni_ocsp(s: Scenario) -> Scenario {
    Scenario {
        connect: ConnectOptions {
            servername: Some("localhost".into()),
            alpn_protocols: alpn(),
            session: None,
        },
        accept: AcceptOptions {
            alpn_protocols: alpn(),
            ocsp_response: Some(b"\x30\x03\x0a\x01\x00".to_vec()),
            ..Default::default()
        },
        ..s
    }
}

#[test]
#[ignore = "writes fuzz/corpus seeds; run by hand"]
fn write_seeds() {
    let plain = |name, client_flags: u8, server_flags: [u8; 2]| Scenario {
        name,
        client_flags,
        server_flags,
        client_ctx: client_context(client_flags),
        connect: ConnectOptions::default(),
        server_ctx: server_context(server_flags[0]),
        accept: AcceptOptions::default(),
    };
    let mut scenarios = vec![
        plain("tls13", 0, [0, 0]),
        plain("tls12", 1, [1, 0]),
        alpn_sni_ocsp(plain("tls13-alpn-sni-ocsp", 8 | 16, [128, 2])),
        alpn_sni_ocsp(plain("tls12-alpn-sni-ocsp", 1 | 8 | 16, [1 | 128, 2])),
        Scenario {
            name: "tls13-client-cert",
            accept: AcceptOptions {
                request_cert: true,
                reject_unauthorized: true,
                ..Default::default()
            },
            ..plain("", 4, [8 | 16, 0])
        },
        Scenario {
            name: "tls12-client-cert",
            accept: AcceptOptions {
                request_cert: true,
                reject_unauthorized: true,
                ..Default::default()
            },
            ..plain("", 1 | 4, [1 | 8 | 16, 0])
        },
        Scenario {
            name: "tls12-rsa",
            client_ctx: context(ContextOptions {
                ca: Some(vec![CA_PEM.into()]),
                max_version: Some("TLSv1.2".into()),
                ciphers: Some("ECDHE-RSA-AES128-GCM-SHA256".into()),
                ..Default::default()
            }),
            ..plain("", 1, [1 | 4, 0])
        },
        Scenario {
            name: "tls13-rsa",
            client_ctx: context(ContextOptions {
                ca: Some(vec![CA_PEM.into()]),
                ciphers: Some("TLS_CHACHA20_POLY1305_SHA256".into()),
                ..Default::default()
            }),
            ..plain("", 0, [4 | 32, 0])
        },
        Scenario {
            name: "tls13-hello-retry",
            server_ctx: server_with(|o| o.ecdh_curve = Some("P-384".into())),
            ..plain("", 0, [0, 0])
        },
        Scenario {
            name: "tls12-external-sessions",
            accept: AcceptOptions {
                external_sessions: true,
                ..Default::default()
            },
            ..plain("", 1, [1 | 64, 0])
        },
    ];
    let mut resumable = Vec::new();
    for s in scenarios.drain(..) {
        let capture = connect(
            s.client_ctx.clone(),
            s.connect,
            s.server_ctx.clone(),
            &s.accept,
        );
        write(
            "client_records",
            s.name,
            &[s.client_flags, 0],
            &capture.to_client,
        );
        write(
            "server_records",
            s.name,
            &[s.server_flags[0], s.server_flags[1], 0],
            &capture.to_server,
        );
        if s.name == "tls13" || s.name == "tls12" {
            let session = capture
                .sessions
                .into_iter()
                .next()
                .expect("a session to resume");
            resumable.push((
                s.name,
                s.client_flags,
                s.server_flags,
                s.client_ctx,
                s.server_ctx,
                s.accept,
                session,
            ));
        }
    }
    // Resumption: the server's fixed ticket keys open these tickets on every
    // run, so the fuzzer reaches ticket decryption and the PSK binder check.
    for (name, client_flags, server_flags, client_ctx, server_ctx, accept, session) in resumable {
        let capture = connect(
            client_ctx,
            ConnectOptions {
                session: Some(session),
                ..Default::default()
            },
            server_ctx,
            &accept,
        );
        let s = (client_flags, server_flags);
        let name = format!("{name}-resumed");
        write("client_records", &name, &[s.0, 0], &capture.to_client);
        write(
            "server_records",
            &name,
            &[s.1[0], s.1[1], 0],
            &capture.to_server,
        );
        // The same streams delivered a few bytes at a time.
        write(
            "client_records",
            &format!("{name}-pieces"),
            &[s.0, 7],
            &capture.to_client,
        );
        write(
            "server_records",
            &format!("{name}-pieces"),
            &[s.1[0], s.1[1], 7],
            &capture.to_server,
        );
    }
}

/// The pfx target's wrapping must pass the MAC check, or it reaches nothing new.
#[test]
fn pfx_wrapping_passes_the_mac() {
    let p12 = include_bytes!("../fixtures/leaf.p12");
    let auth_safe = &p12[30..30 + 1837];
    let pfx = wasm_tls_fuzz::pfx_with_valid_mac(auth_safe);
    let parsed = wasm_tls::keys::pfx(&pfx, wasm_tls_fuzz::PASSPHRASE);
    assert!(parsed.is_ok(), "{:?}", parsed.err());
}

/// How far each committed record seed gets when replayed (printed; run with
/// --nocapture): the replays fail where fresh randomness makes the captured
/// bytes stale, past the parsing of every plaintext handshake message.
#[test]
fn replay_depth() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for target in ["client_records", "server_records"] {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(target))
            .expect("corpus")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
            })
            .collect();
        names.sort();
        for path in names {
            let data = std::fs::read(&path).expect("seed");
            let outcome = if target == "client_records" {
                replay_client(&data)
            } else {
                replay_server(&data)
            };
            println!(
                "{target}/{}: {outcome}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
        }
    }
}

fn replay_client(data: &[u8]) -> String {
    let flags = data[0];
    let options = ConnectOptions {
        servername: (flags & 16 != 0).then(|| "localhost".into()),
        alpn_protocols: if flags & 8 != 0 { alpn() } else { Vec::new() },
        session: None,
    };
    let mut engine = Engine::client(client_context(flags), options).expect("client");
    let mut plain = Vec::new();
    for chunk in wasm_tls_fuzz::deliveries(&data[2..], data[1]) {
        if let Err(e) = engine.receive(chunk, &mut plain) {
            return format!("{} {}", e.code, e.message);
        }
    }
    format!("no error; handshaking: {}", engine.is_handshaking())
}

fn replay_server(data: &[u8]) -> String {
    let mut acceptor = ServerAcceptor::default();
    let mut alert = Vec::new();
    let mut chunks = wasm_tls_fuzz::deliveries(&data[3..], data[2]).into_iter();
    let hello = match wasm_tls_fuzz::read_hello(&mut acceptor, &mut alert, &mut chunks) {
        Ok(Some(hello)) => hello,
        Ok(None) => return "no hello".into(),
        Err(e) => return format!("acceptor: {} {}", e.code, e.message),
    };
    let accept = AcceptOptions {
        request_cert: data[0] & 8 != 0,
        external_sessions: data[0] & 64 != 0,
        ..Default::default()
    };
    let mut engine = match acceptor.accept(server_context(data[0]), &accept, &mut alert) {
        Ok(e) => e,
        Err(e) => return format!("accept: {} {}", e.code, e.message),
    };
    let mut plain = Vec::new();
    for chunk in chunks {
        if let Err(e) = engine.receive(chunk, &mut plain) {
            return format!(
                "{hello:?} -> {} {} (resumed: {})",
                e.code,
                e.message,
                engine.is_session_reused()
            );
        }
    }
    format!("{hello:?} -> no error")
}
