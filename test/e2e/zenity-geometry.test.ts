// The zenity fallback fits a 1280×800 screen: its window, OK button included, lies inside the screen of
// scripts/with-display.sh's Xvfb (1280x800). Long texts used to make it 1,500 px wide with OK off-screen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDialogDriver } from '../../src/dialog/driver.js';
import { consentTemplate, credentialTemplate, type DialogTemplate } from '../../src/dialog/template.js';
import { requireDisplay } from '../helpers/display.js';
import { waitFor } from '../helpers/proxy.js';

/** A package root without the GTK binary, so the driver uses zenity. */
const noBinaryRoot = mkdtempSync(join(tmpdir(), 'keyproxy-zenity-geometry-'));
const CODE = 'KX7P-M4QZ';
const LONG = 'A help text that goes on for a while, as help texts written by server authors tend to do, with a URL ';
const declarations = {
  API_TOKEN: {
    label: 'API token',
    field_type: 'password' as const,
    help_text: `${LONG}https://example.com/settings/tokens/new?scopes=repo,read:org`,
  },
  ENDPOINT: { label: 'Endpoint', field_type: 'url' as const, required: false, default: 'https://api.example.com/v1/some/rather/long/path' },
  WORKSPACE: { label: 'Workspace identifier for the organisation account', field_type: 'text' as const, help_text: LONG.repeat(2) },
};

interface Geometry {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function screen(): Promise<{ width: number; height: number }> {
  const [width, height] = (await execa('xdotool', ['getdisplaygeometry'])).stdout.trim().split(/\s+/).map(Number);
  return { width: width ?? NaN, height: height ?? NaN };
}

/** The geometry of the dialog's window once it is mapped and laid out (bounded poll; zenity resizes as it lays out). */
async function windowOf(pid: number): Promise<Geometry> {
  let last: Geometry | undefined;
  let stable = 0;
  await waitFor(async () => {
    const search = await execa('xdotool', ['search', '--onlyvisible', '--pid', String(pid)], { reject: false });
    const id = search.stdout.split('\n')[0];
    if (!id) return false;
    const info = await execa('xwininfo', ['-id', id], { reject: false });
    const read = (name: string) => Number(new RegExp(`${name}:\\s+(-?\\d+)`).exec(info.stdout)?.[1]);
    const now = { x: read('Absolute upper-left X'), y: read('Absolute upper-left Y'), width: read('Width'), height: read('Height') };
    stable = last && JSON.stringify(now) === JSON.stringify(last) ? stable + 1 : 0;
    last = now;
    return stable >= 3;
  }, 20_000);
  if (!last) throw new Error(`no visible window of zenity (pid ${pid}) within 20 s`);
  return last;
}

async function measure(template: DialogTemplate): Promise<Geometry> {
  const driver = createDialogDriver({ packageRoot: noBinaryRoot });
  expect(driver.name).toBe('zenity');
  const controller = new AbortController();
  let pid: number | undefined;
  const outcome = driver.prompt(template, { signal: controller.signal, onSpawn: (p) => (pid = p) });
  try {
    expect(await waitFor(() => pid !== undefined, 10_000)).toBe(true);
    return await windowOf(pid as number);
  } finally {
    controller.abort();
    await outcome;
  }
}

beforeAll(() => requireDisplay());
afterAll(() => rmSync(noBinaryRoot, { recursive: true, force: true }));

describe('the zenity fallback on a 1280×800 screen', () => {
  it('shows the credentials form, long help texts and defaults included, inside the screen', async () => {
    const size = await screen();
    expect(size).toEqual({ width: 1280, height: 800 });
    const form = credentialTemplate('a-server-with-a-long-name', declarations, Object.keys(declarations), CODE, {
      clientName: 'claude-ai',
    });
    const window = await measure(form);
    console.log(`zenity form window: ${window.width}×${window.height} at ${window.x},${window.y}`);
    expect(window.x).toBeGreaterThanOrEqual(0);
    expect(window.y).toBeGreaterThanOrEqual(0);
    expect(window.x + window.width).toBeLessThanOrEqual(size.width);
    expect(window.y + window.height).toBeLessThanOrEqual(size.height);
  }, 60_000);

  it('shows the consent question inside the screen', async () => {
    const size = await screen();
    const window = await measure(
      consentTemplate('a-server-with-a-long-name', Object.keys(declarations), CODE, { clientName: 'claude-ai' }),
    );
    console.log(`zenity question window: ${window.width}×${window.height} at ${window.x},${window.y}`);
    expect(window.x).toBeGreaterThanOrEqual(0);
    expect(window.x + window.width).toBeLessThanOrEqual(size.width);
    expect(window.y + window.height).toBeLessThanOrEqual(size.height);
  }, 60_000);
});
