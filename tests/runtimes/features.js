// Run inside Deno or Bun: client and server features beyond one exchange
// (see probeClientFeatures, probeServerFeatures, probeServerErrors, probeStartTls); one JSON line.
import net from 'node:net';
import tls from 'wasm-tls';
import { config, probeClientFeatures, probeServerFeatures, report } from './common.js';
import { probeServerErrors } from './server-errors.js';
import { probeStartTls } from './starttls.js';

const cfg = config();
report({
  client: await probeClientFeatures(tls, cfg),
  server: await probeServerFeatures(tls, cfg),
  serverErrors: await probeServerErrors(tls, net, cfg),
  startTls: await probeStartTls(tls, net, cfg),
});
