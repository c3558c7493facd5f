/**
 * Headless Chromium for tests, driven with playwright-core (no browser download: it uses the
 * system's `chromium`, Debian's package, or `LOOKOUT_TEST_CHROMIUM`). Every launch gets a fresh
 * profile directory and the flags that keep the browser off the network (no component updates,
 * sync, background fetches or QUIC); pages under test are served on 127.0.0.1.
 *
 *   const maybe = CHROMIUM ? test : test.skip;
 *   maybe(`renders${CHROMIUM ? '' : NO_CHROMIUM}`, async (t) => {
 *     const browser = await launchChromium();
 *     try { ... } finally { await browser.close(); }
 *   });
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

const CANDIDATES = [process.env.LOOKOUT_TEST_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));

/** The Chromium executable tests use, or null when none is installed. */
export const CHROMIUM: string | null = CANDIDATES.find((p) => existsSync(p)) ?? null;

/** Appended to a skipped test's title. */
export const NO_CHROMIUM = ' (skipped: needs chromium; install the Debian package or set LOOKOUT_TEST_CHROMIUM)';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
];

/** A running headless browser context; `close()` ends the browser and removes its profile. */
export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Starts headless Chromium with a fresh profile. Throws when {@link CHROMIUM} is null. */
export async function launchChromium(): Promise<TestBrowser> {
  if (!CHROMIUM) throw new Error('no chromium executable');
  const profile = await mkdtemp(path.join(os.tmpdir(), 'lookout-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
