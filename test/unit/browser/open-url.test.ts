import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openUrl } from '../../../src/browser/open-url.js';

const dir = mkdtempSync(join(tmpdir(), 'keyproxy-open-url-'));
const browser = join(import.meta.dirname, '../../fixtures/browser/follow-redirects.mjs');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Polls `read` until it returns something, for at most `ms`. */
async function waitFor<T>(read: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('openUrl', () => {
  it('prints the URL and hands it to the system opener, which runs $BROWSER (xdg-open, no desktop)', async () => {
    const log = join(dir, 'browser.log');
    const saved = { ...process.env };
    // xdg-open with no desktop session and no display uses $BROWSER.
    for (const name of ['DISPLAY', 'WAYLAND_DISPLAY', 'XDG_CURRENT_DESKTOP', 'DESKTOP_SESSION', 'KDE_FULL_SESSION']) {
      delete process.env[name];
    }
    Object.assign(process.env, { BROWSER: browser, FIXTURE_BROWSER_LOG: log, FIXTURE_BROWSER_FOLLOW: '0' });
    const lines: string[] = [];
    try {
      const url = 'http://127.0.0.1:9/authorize?state=abc&x=1';
      const result = await openUrl(url, { purpose: 'Log in to server demo', write: (line) => lines.push(line) });
      expect(result).toEqual({ opened: true });
      expect(lines.join('\n')).toContain(url);
      expect(lines[0]).toMatch(/^Log in to server demo/);
      const opened = await waitFor(() => {
        try {
          return readFileSync(log, 'utf8') || undefined;
        } catch {
          return undefined;
        }
      });
      expect(opened).toBe(`open ${url}\n`);
    } finally {
      process.env = saved;
    }
  });

  it('still prints the URL when no browser can be opened, and says so', async () => {
    const lines: string[] = [];
    const result = await openUrl('http://127.0.0.1:9/page', {
      purpose: 'Enter the key',
      write: (line) => lines.push(line),
      opener: () => Promise.reject(new Error('spawn xdg-open ENOENT')),
    });
    expect(result).toEqual({ opened: false, error: 'spawn xdg-open ENOENT' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('http://127.0.0.1:9/page');
    expect(lines[1]).toContain('open the URL above yourself');
  });
});
