import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, inheritedEnv, repoRoot, writeConfig } from '../helpers/proxy.js';
import { startListening, type HttpServerProcess } from '../helpers/remote.js';

/**
 * The MCP conformance server suite (@modelcontextprotocol/conformance, 30 active scenarios), run against our own
 * conformance fixture (test/fixtures/conformance-server.mjs: server→client requests on the GET stream, as the
 * conformance repository's reference server sends them) directly, and through mcp-keyproxy's two paths. The runner
 * speaks only Streamable HTTP, so each path is reached through test/fixtures/stdio-http-front.mjs, which runs
 * `mcp-keyproxy run <server>` as a stdio server; that front has no DNS-rebinding checks, so that one scenario fails
 * through any stdio bridge (it tests the front, not the proxy).
 *
 * The baseline run (no proxy) talks to a fixture started with --await-get-stream: the runner's own client opens its
 * GET stream without waiting for it, so on a busy machine its tool call can reach a strict server first and the
 * server's question is lost (seen in CI: tools-call-sampling). The proxy paths use the strict fixture, which loses
 * such a question, so they show the proxy opens the stream before it forwards a call.
 */

const fixturePath = join(repoRoot, 'test/fixtures/conformance-server.mjs');
const frontPath = join(repoRoot, 'test/fixtures/stdio-http-front.mjs');
const runnerPath = join(repoRoot, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const SCENARIOS = 30;
/** A whole suite run: 30 scenarios, each a new session (and, through a front, a new proxy); minutes on a busy machine. */
const SUITE_TIMEOUT_MS = 420_000;
/** Lost on the remote path before the GET-stream race was closed (issue 11): the server asks on the GET stream. */
const askingScenarios = ['tools-call-sampling', 'tools-call-elicitation', 'elicitation-sep1034-defaults', 'elicitation-sep1330-enums'];
const frontOnly = 'dns-rebinding-protection';

const suffix = randomBytes(3).toString('hex');
const remote = `conf-remote-${suffix}`;
const local = `conf-stdio-${suffix}`;
const servers: HttpServerProcess[] = [];
let config: string;
let stateDir: string;
let direct: HttpServerProcess;
let baseline: HttpServerProcess;

/** Scenario name → passed, from the runner's summary lines ("✓ name: 1 passed, 0 failed"). */
type Outcome = Map<string, boolean>;

function runSuite(url: string): Promise<{ outcome: Outcome; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [runnerPath, 'server', '--url', url],
      { env: inheritedEnv(), timeout: SUITE_TIMEOUT_MS - 10_000, maxBuffer: 16 * 1024 * 1024 },
      (_error, stdout, stderr) => {
        // The runner exits non-zero when a scenario fails; the summary says which.
        const output = `${stdout}\n${stderr}`;
        const outcome: Outcome = new Map();
        for (const match of output.matchAll(/^([✓✗]) ([\w-]+): \d+ passed, (\d+) failed$/gmu)) {
          outcome.set(match[2]!, match[1] === '✓' && match[3] === '0');
        }
        resolve({ outcome, output });
      },
    );
  });
}

const passed = (outcome: Outcome) => [...outcome].filter(([, ok]) => ok).map(([name]) => name);
const failed = (outcome: Outcome) => [...outcome].filter(([, ok]) => !ok).map(([name]) => name);

async function start(args: string[]): Promise<HttpServerProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...inheritedEnv(), MCP_KEYPROXY_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.resume();
  const server = await startListening(child, 'stdout', []);
  servers.push(server);
  return server;
}

/** The URL of an HTTP front that runs `mcp-keyproxy run <server>` per session. */
async function throughProxy(server: string): Promise<string> {
  const front = await start([frontPath, process.execPath, binPath, 'run', server, '--config', config, '--log-level', 'warn']);
  return `${front.origin}/mcp`;
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-conformance-state-'));
  [direct, baseline] = await Promise.all([start([fixturePath, 'http']), start([fixturePath, 'http', '--await-get-stream'])]);
  config = await writeConfig({
    [remote]: { url: `${direct.origin}/mcp`, transport: 'http', confirm: false },
    [local]: { command: process.execPath, args: [fixturePath, 'stdio'], confirm: false },
  });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

let stdioPassed: string[] | undefined;

describe('MCP conformance server suite', () => {
  it(
    'the fixture passes every scenario without a proxy',
    async () => {
      const run = await runSuite(`${baseline.origin}/mcp`);
      expect(failed(run.outcome), run.output).toEqual([]);
      expect(run.outcome.size).toBe(SCENARIOS);
    },
    SUITE_TIMEOUT_MS,
  );

  it(
    'through the stdio path every scenario passes but the DNS-rebinding one (the front has no such check)',
    async () => {
      const run = await runSuite(await throughProxy(local));
      expect(run.outcome.size, run.output).toBe(SCENARIOS);
      expect(failed(run.outcome), run.output).toEqual([frontOnly]);
      stdioPassed = passed(run.outcome);
    },
    SUITE_TIMEOUT_MS,
  );

  // Two runs, a new proxy for each session: the race is closed, not made rarer.
  it.each([1, 2])(
    'through the remote path (run %i) every scenario the stdio path passes passes, those where the server asks on the GET stream included',
    async () => {
      expect(stdioPassed, 'the stdio path ran first').toBeDefined();
      const run = await runSuite(await throughProxy(remote));
      expect(run.outcome.size, run.output).toBe(SCENARIOS);
      expect(passed(run.outcome), run.output).toEqual(expect.arrayContaining(stdioPassed!));
      expect(passed(run.outcome)).toEqual(expect.arrayContaining(askingScenarios));
      expect(failed(run.outcome)).toEqual([frontOnly]);
    },
    SUITE_TIMEOUT_MS,
  );
});
