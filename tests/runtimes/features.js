// Run inside Deno or Bun: client and server features beyond one exchange
// (see probeClientFeatures, probeServerFeatures); one JSON line.
import tls from 'wasm-tls';
import { config, probeClientFeatures, probeServerFeatures, report } from './common.js';

const cfg = config();
report({ client: await probeClientFeatures(tls, cfg), server: await probeServerFeatures(tls, cfg) });
