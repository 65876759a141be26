import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENTS,
  EVERYTHING_TOOLS,
  STEPS,
  V2_FIXTURE_TOOLS,
  prefixed,
  runCell,
  runCells,
  type CellResult,
  type ClientKind,
  type Step,
  type Target,
  type ToolSet,
} from '../helpers/era-clients.js';
import { eraStdio, startEraHttp } from '../helpers/era-servers.js';
import { binPath, everythingEntry, inheritedEnv, repoRoot, writeConfig } from '../helpers/proxy.js';
import { startEverythingHttp } from '../helpers/remote.js';

/**
 * The era matrix: every client (SDK 1.32; the v2 client in legacy, auto and pinned-2026 mode) against every server
 * (the v2 fixture dual-era and 2026-only, over stdio and Streamable HTTP; server-everything over both), directly and
 * through mcp-keyproxy (one server; one remote server with a secret header; the aggregate), and for the HTTP servers
 * through mcp-remote with `--protocol auto` (the stdio-to-HTTP bridge most users run; the bar is that the proxy
 * passes at least what the same client passes directly or through it). Each cell runs the six steps; the table goes
 * to test-artifacts/era-matrix.json.
 *
 * Kept fast by sharing: the HTTP servers serve every cell; the aggregate is one proxy per client with all six
 * servers as members (its cells run over that one connection); the secret path runs for the remote rows only (a
 * secret header is a remote thing; a local server's variable changes nothing in the messages, which the plain proxy
 * path covers); independent cells run several at once.
 */

const PATHS = ['direct', 'mcp-remote', 'proxy', 'proxy-secret', 'aggregate'] as const;
type Path = (typeof PATHS)[number];

/** A server row: how to reach it directly, and its config entry. */
interface ServerRow {
  id: string;
  /** dual-era, 2026-only, or a 2025 server. */
  era: 'dual' | '2026' | '2025';
  tools: ToolSet;
  direct: Target;
  entry: Record<string, unknown>;
  stop?: () => Promise<void>;
}

interface Cell {
  server: string;
  client: ClientKind;
  path: Path;
  result: CellResult;
  /** How long the cell took (to keep the matrix's runtime in view; never asserted). */
  ms: number;
}

/** Cells run at once (most of a cell's time is waiting on its peers). */
const CONCURRENCY = 6;
const suffix = randomBytes(3).toString('hex');
const secretValue = `era-matrix-${randomBytes(12).toString('hex')}`;
const rows: ServerRow[] = [];
const cells: Cell[] = [];
let stateDir: string;
/** mcp-remote's own state (OAuth files, locks), never under the real home. */
let mcpRemoteDir: string;
const mcpRemoteBin = join(repoRoot, 'node_modules/mcp-remote/dist/proxy.js');

function stdioRow(id: string, era: ServerRow['era'], command: { command: string; args: string[] }, tools: ToolSet): ServerRow {
  return { id, era, tools, direct: command, entry: { ...command, confirm: false } };
}

async function httpRow(id: string, era: ServerRow['era'], server: { url: string; stop: () => Promise<void> }, tools: ToolSet) {
  return { id, era, tools, direct: { url: server.url }, entry: { url: server.url, confirm: false }, stop: server.stop };
}

/** The config entry of a row with a secret from the proxy's environment: a header (remote) or a variable (local). */
function withSecret(entry: Record<string, unknown>): Record<string, unknown> {
  const secrets = { api_key: { from: 'env:ERA_MATRIX_KEY' } };
  return 'url' in entry
    ? { ...entry, headers: { 'X-Api-Key': '${secret:api_key}' }, secrets }
    : { ...entry, env: { ERA_MATRIX_KEY_IN_CHILD: '${secret:api_key}' }, secrets };
}

function proxyEnv(): Record<string, string> {
  return { ...inheritedEnv(), MCP_KEYPROXY_STATE_DIR: stateDir, ERA_MATRIX_KEY: secretValue };
}

async function targetOf(row: ServerRow, path: 'direct' | 'mcp-remote' | 'proxy' | 'proxy-secret'): Promise<Target> {
  if (path === 'direct') return row.direct;
  if (path === 'mcp-remote') {
    // Loopback http:// needs no --allow-http; --protocol auto makes it the dual-era client its README describes.
    const url = (row.direct as { url: string }).url;
    return {
      command: process.execPath,
      args: [mcpRemoteBin, url, '--protocol', 'auto', '--silent'],
      env: { ...inheritedEnv(), MCP_REMOTE_CONFIG_DIR: mcpRemoteDir },
    };
  }
  const name = `${row.id}-${suffix}`;
  const config = await writeConfig({ [name]: path === 'proxy-secret' ? withSecret(row.entry) : row.entry });
  return { command: process.execPath, args: [binPath, 'run', name, '--config', config], env: proxyEnv() };
}

/** Whether a row runs on a path: the secret path and mcp-remote (a bridge to a URL) only for remote servers. */
function runsOn(row: ServerRow, path: Path): boolean {
  return (path !== 'proxy-secret' && path !== 'mcp-remote') || 'url' in row.entry;
}

/** Runs `jobs` with at most `limit` at once. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

function passed(cell: Cell | undefined): Set<Step> {
  return new Set(STEPS.filter((step) => cell?.result.steps[step]));
}

function find(server: string, client: ClientKind, path: Path): Cell | undefined {
  return cells.find((cell) => cell.server === server && cell.client === client && cell.path === path);
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-era-matrix-'));
  mcpRemoteDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-era-matrix-mcp-remote-'));
  const [httpDual, httpModern, everythingHttp] = await Promise.all([startEraHttp('dual'), startEraHttp('modern'), startEverythingHttp()]);
  rows.push(
    stdioRow('v2-stdio-dual', 'dual', eraStdio('dual'), V2_FIXTURE_TOOLS),
    stdioRow('v2-stdio-2026', '2026', eraStdio('modern'), V2_FIXTURE_TOOLS),
    await httpRow('v2-http-dual', 'dual', httpDual, V2_FIXTURE_TOOLS),
    await httpRow('v2-http-2026', '2026', httpModern, V2_FIXTURE_TOOLS),
    stdioRow('everything-stdio', '2025', { command: process.execPath, args: [everythingEntry, 'stdio'] }, EVERYTHING_TOOLS),
    await httpRow('everything-http', '2025', { url: `${everythingHttp.origin}/mcp`, stop: everythingHttp.stop }, EVERYTHING_TOOLS),
  );
  const single = rows.flatMap((row) =>
    (['direct', 'mcp-remote', 'proxy', 'proxy-secret'] as const)
      .filter((path) => runsOn(row, path))
      .flatMap((path) =>
        CLIENTS.map((client) => async () => {
          const started = Date.now();
          const result = await runCell(client, await targetOf(row, path), row.tools);
          cells.push({ server: row.id, client, path, result, ms: Date.now() - started });
        }),
      ),
  );
  // One aggregate per client, every row a member: its six cells run over that one connection.
  const members = Object.fromEntries(rows.map((row) => [`${row.id}-${suffix}`, row.entry]));
  const aggregateConfig = await writeConfig(members);
  const aggregate = CLIENTS.map((client) => async () => {
    const started = Date.now();
    const target: Target = { command: process.execPath, args: [binPath, 'run', '--config', aggregateConfig], env: proxyEnv() };
    const results = await runCells(
      client,
      target,
      rows.map((row) => prefixed(row.tools, `${row.id}-${suffix}`)),
      { waitForTools: true },
    );
    const ms = Date.now() - started;
    rows.forEach((row, index) => cells.push({ server: row.id, client, path: 'aggregate', result: results[index]!, ms }));
  });
  // The aggregates (the longest jobs) first.
  await pool([...aggregate, ...single], CONCURRENCY);
  await mkdir(join(repoRoot, 'test-artifacts'), { recursive: true });
  const table = rows.flatMap((row) =>
    CLIENTS.map((client) => ({
      server: row.id,
      era: row.era,
      client,
      ...Object.fromEntries(
        PATHS.filter((path) => runsOn(row, path)).map((path) => [path, `${passed(find(row.id, client, path)).size}/${STEPS.length}`]),
      ),
    })),
  );
  await writeFile(join(repoRoot, 'test-artifacts/era-matrix.json'), `${JSON.stringify({ steps: STEPS, table, cells }, null, 2)}\n`);
}, 600_000);

afterAll(async () => {
  await Promise.all(rows.map((row) => row.stop?.()));
  if (mcpRemoteDir) await rm(mcpRemoteDir, { recursive: true, force: true });
});

describe('era matrix', () => {
  it('ran every cell', () => {
    const expected = rows.reduce((sum, row) => sum + PATHS.filter((path) => runsOn(row, path)).length * CLIENTS.length, 0);
    expect(cells).toHaveLength(expected);
  });

  it('through the proxy, every cell passes at least the steps the same client passes directly or through mcp-remote', () => {
    const short: string[] = [];
    for (const row of rows) {
      for (const client of CLIENTS) {
        for (const baseline of (['direct', 'mcp-remote'] as const).filter((candidate) => runsOn(row, candidate))) {
          const reached = passed(find(row.id, client, baseline));
          for (const path of (['proxy', 'proxy-secret', 'aggregate'] as const).filter((candidate) => runsOn(row, candidate))) {
            const cell = find(row.id, client, path);
            const through = passed(cell);
            for (const step of reached) {
              if (!through.has(step)) {
                short.push(
                  `${row.id} × ${client} × ${path} (${baseline} passes it): ${step} (${cell?.result.errors[step] ?? 'no result'})`,
                );
              }
            }
          }
        }
      }
    }
    expect(short).toEqual([]);
  });

  it('mcp-remote (the baseline above) bridges a 2025 client to every HTTP server', () => {
    // Without this the comparison with mcp-remote would hold trivially if it never started.
    for (const row of rows.filter((candidate) => runsOn(candidate, 'mcp-remote'))) {
      expect(find(row.id, 'sdk-1.32', 'mcp-remote')?.result.steps.connect, `${row.id} × sdk-1.32 × mcp-remote`).toBe(true);
    }
  });

  it('a 2025 client reaches a 2026-only server through every proxy path (the bridge), with all six steps', () => {
    for (const row of rows.filter((candidate) => candidate.era === '2026')) {
      for (const path of (['proxy', 'proxy-secret', 'aggregate'] as const).filter((candidate) => runsOn(row, candidate))) {
        const cell = find(row.id, 'sdk-1.32', path);
        expect(cell?.result.errors, `${row.id} × sdk-1.32 × ${path}`).toEqual({});
        expect(passed(find(row.id, 'sdk-1.32', 'direct')).has('connect'), `${row.id} refuses a 2025 client directly`).toBe(false);
      }
    }
  });

  it('the aggregate passes all six steps with a dual-era or 2026-only member, for every client (2026-pinned included)', () => {
    for (const row of rows.filter((candidate) => candidate.era !== '2025')) {
      for (const client of CLIENTS) {
        expect(find(row.id, client, 'aggregate')?.result.errors, `${row.id} × ${client} × aggregate`).toEqual({});
      }
    }
  });
});
