// Debian's Chromium (scripts/setup.sh installs it), driven by playwright-core,
// with a fresh profile per launch. Pages record their console errors and
// uncaught exceptions so a failing test can say what the page saw.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Launches Chromium; close() ends it and removes its profile.
 * @returns {Promise<{ context: import('playwright-core').BrowserContext, close: () => Promise<void>,
 *   newPage: () => Promise<import('playwright-core').Page & { problems: string[] }> }>}
 */
export async function launchChromium() {
  const profile = mkdtempSync(join(tmpdir(), 'wasm-tls-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
    async newPage() {
      const page = /** @type {any} */ (await context.newPage());
      page.problems = [];
      page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.stack ?? e}`));
      page.on('console', (m) => {
        if (m.type() === 'error') page.problems.push(`console.error: ${m.text()}`);
      });
      return page;
    },
  };
}

/** Waits until `document.body.dataset.state` is one of `states`, then returns `window[name]`. */
export async function pageResult(page, name, states = ['done', 'error'], timeout = 60_000) {
  try {
    await page.waitForFunction((s) => s.includes(document.body?.dataset.state), states, { timeout });
  } catch (e) {
    throw new Error(`${e.message}\npage problems:\n${page.problems.join('\n')}`);
  }
  return page.evaluate((n) => window[n], name);
}
