//! wasm-tls engine: rustls behind a sans-I/O connection shaped for Node's `tls`.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod certinfo;
pub mod ciphers;
pub mod context;
pub mod der;
pub mod engine;
pub mod error;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod js_values;
pub mod kdf;
pub mod keys;
pub mod pkcs;
pub mod records;
pub mod roots;
pub mod server;
pub mod session;
pub mod small_rsa;
pub mod tickets;
pub mod verify;
#[cfg(target_arch = "wasm32")]
mod wasm;
pub mod x509;

/// talc rather than std's dlmalloc: smaller code for the same work (Cargo.toml says
/// by how much). wasm32 without threads only, as the engine is.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
