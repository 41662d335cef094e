# workerd config for tests/runtimes/worker.js (bundled by the test into worker.bundle.js).
# No compatibility flags: wasm-tls needs no nodejs_compat (its Node builtins are bundled npm polyfills).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # connect() goes out through globalOutbound; the default "internet" service allows
    # public addresses only, so the test's 127.0.0.1 servers need a loopback network.
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.bundle.js"),
    # The engine, compiled by workerd: js/entry/workerd.js imports it as a WebAssembly.Module.
    (name = "wasm_tls_bg.wasm", wasm = embed "wasm_tls_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  globalOutbound = "loopback",
);
