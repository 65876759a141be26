import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { repoRoot } from './proxy.js';

/** The verification code the proxy shows (on the page and to the client). */
export const CODE = /\b[2-9A-Z]{4}-[2-9A-Z]{4}\b/;
/** A one-time key page link. */
export const LINK = /http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}/;

const artifacts = join(repoRoot, 'test-artifacts');

/**
 * The environment of a proxy whose key page the test opens itself: its own runtime and state folders under
 * test-artifacts (named by `prefix` and a random `suffix`, which the file can use in its server names), and $BROWSER the fixture that only logs the URL it was
 * given (to `browserLog`). No display for the proxy: with one, xdg-open asks the desktop's URL handler first
 * (Chromium, once the apt packages are in) and never reaches $BROWSER; so a case chooses the page with --collect
 * browser.
 */
export function keyPageEnv(prefix: string) {
  const suffix = randomBytes(3).toString('hex');
  const browserLog = join(artifacts, `${prefix}-browser-${suffix}.log`);
  return {
    browserLog,
    suffix,
    env: {
      MCP_KEYPROXY_RUNTIME_DIR: join(artifacts, `runtime-${prefix}-${suffix}`),
      MCP_KEYPROXY_STATE_DIR: join(artifacts, `state-${prefix}-${suffix}`),
      BROWSER: join(repoRoot, 'test/fixtures/browser/follow-redirects.mjs'),
      FIXTURE_BROWSER_FOLLOW: '0',
      FIXTURE_BROWSER_LOG: browserLog,
      DISPLAY: '',
      WAYLAND_DISPLAY: '',
    },
  };
}

/**
 * Headless Chromium (Debian's, driven by playwright-core) for the calling e2e file: launched before its tests (up to
 * 2 minutes: slow on a busy machine), closed after. test-artifacts exists once it is up.
 */
export function useChromium(options: BrowserContextOptions = {}): { readonly context: BrowserContext } {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  beforeAll(async () => {
    await mkdir(artifacts, { recursive: true });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
    context = await browser.newContext(options);
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
  });
  return {
    get context() {
      if (!context) throw new Error('Chromium is not running (useChromium starts it in beforeAll)');
      return context;
    },
  };
}
