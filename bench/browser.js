// Chromium throughput: a wasm-tls client in the page and a wasm-tls server in a
// Web Worker over a MessageChannel (www/worker.html), per cipher suite, one
// way (upload: page to worker; download: worker to page) and both ways at once (echo).
// As in any browser: the handshake in wasm, then AES-GCM records through
// WebCrypto and ChaCha20-Poly1305 records through ring in wasm. This is the
// browser figure issue 6 asks for. Medians of ROUNDS runs after a warm-up.
//   node bench/browser.js [--size MiB] [--rounds N] [--cipher TLS_AES_128_GCM_SHA256] [--mode upload]
import { buildBundle, startDemo } from '../bin/lib/demo.js';
import { launchChromium, pageResult } from '../tests/js/helpers/chromium.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const size = arg('size', 32) << 20;
const rounds = arg('rounds', 3);
const pick = (name, all) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? all.filter((x) => x === process.argv[i + 1]) : all;
};
const ciphers = pick('cipher', ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
const modes = pick('mode', ['upload', 'download', 'echo']);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await buildBundle();
const demo = await startDemo({});
const browser = await launchChromium();
try {
  console.log(`Chromium, page <-> Web Worker over a MessageChannel, ${size >> 20} MiB per run`);
  console.log('- upload: the page sends, the worker counts; download: the worker sends, the page counts (one way through TLS)');
  console.log('- echo: the worker sends everything back (both ways at once; MB/s each way)\n');
  console.log('| cipher suite | upload MB/s | download MB/s | echo MB/s each way | samples (upload; download; echo) |\n|---|---:|---:|---:|---|');
  for (const cipher of ciphers) {
    const samples = { upload: [], download: [], echo: [] };
    for (let i = 0; i <= rounds; i++) {
      for (const mode of modes) {
        const page = await browser.newPage();
        await page.goto(`${demo.url}worker.html?size=${size}&seed=${i + 1}&ciphers=${cipher}&mode=${mode}`);
        const result = await pageResult(page, 'workerResult', ['done', 'error'], 600_000);
        await page.close();
        if (result.state !== 'done') throw new Error(JSON.stringify(result.error ?? result.workerErrors));
        if (result.client.cipher.standardName !== cipher) throw new Error(`negotiated ${result.client.cipher.standardName}`);
        let ms;
        if (mode === 'upload') {
          if (result.upload.countedByServer !== size) throw new Error(`the worker counted ${result.upload.countedByServer}`);
          ms = result.upload.ms;
        } else if (mode === 'download') {
          if (result.download.receivedBytes !== size) throw new Error(`the page received ${result.download.receivedBytes}`);
          ms = result.download.ms;
        } else {
          if (result.echo.receivedSha256 !== result.echo.sentSha256) throw new Error('echo differs');
          // The payload crosses TLS twice each way (client->server, server->client) within echo.ms.
          ms = result.echo.ms;
        }
        if (i > 0) samples[mode].push(size / 1e6 / (ms / 1e3)); // round 0 warms up
      }
    }
    const list = (xs) => xs.map((s) => s.toFixed(1)).join(', ');
    const m = (xs) => (xs.length ? median(xs).toFixed(1) : '-');
    console.log(`| ${cipher} | ${m(samples.upload)} | ${m(samples.download)} | ${m(samples.echo)} | ${list(samples.upload)}; ${list(samples.download)}; ${list(samples.echo)} |`);
  }
} finally {
  await browser.close();
  await demo.close();
}
