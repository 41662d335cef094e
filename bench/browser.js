// Chromium throughput: a wasm-tls client in the page and a wasm-tls server in a
// Web Worker over a MessageChannel (www/worker.html), per cipher suite.
// Everything runs in wasm there (no node:crypto): this is the browser figure
// issue 6 asks for. Medians of ROUNDS runs after a warm-up.
//   node bench/browser.js [--size MiB] [--rounds N]
import { buildBundle, startDemo } from '../bin/lib/demo.js';
import { launchChromium, pageResult } from '../tests/js/helpers/chromium.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const size = arg('size', 32) << 20;
const rounds = arg('rounds', 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await buildBundle();
const demo = await startDemo({});
const browser = await launchChromium();
try {
  console.log(`Chromium, page <-> Web Worker over a MessageChannel, ${size >> 20} MiB echoed (sent and received through TLS)`);
  console.log('| cipher suite | MB/s each way (median) | samples |\n|---|---:|---|');
  for (const cipher of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
    const samples = [];
    for (let i = 0; i <= rounds; i++) {
      const page = await browser.newPage();
      await page.goto(`${demo.url}worker.html?size=${size}&seed=${i + 1}&ciphers=${cipher}`);
      const result = await pageResult(page, 'workerResult', ['done', 'error'], 600_000);
      await page.close();
      if (result.state !== 'done') throw new Error(JSON.stringify(result.error ?? result.workerErrors));
      if (result.client.cipher.standardName !== cipher) throw new Error(`negotiated ${result.client.cipher.standardName}`);
      if (result.echo.receivedSha256 !== result.echo.sentSha256) throw new Error('echo differs');
      // The payload crosses TLS twice each way (client->server, server->client) within echo.ms.
      if (i > 0) samples.push(size / 1e6 / (result.echo.ms / 1e3));
    }
    console.log(`| ${cipher} | ${median(samples).toFixed(1)} | ${samples.map((s) => s.toFixed(1)).join(', ')} |`);
  }
} finally {
  await browser.close();
  await demo.close();
}
