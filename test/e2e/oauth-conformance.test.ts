import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { repoRoot } from '../helpers/proxy.js';

// The MCP conformance client suite (@modelcontextprotocol/conformance, `conformance client`), auth scenarios:
// each scenario starts its own authorization server and MCP server, launches a client with the server's URL and
// checks what the client did (discovery, registration, PKCE, resource, scopes, token endpoint auth, step-up …).
// Two clients go through every scenario:
//   - test/fixtures/conformance/proxy-client.mjs: mcp-keyproxy's remote path (a generated config, `run`, the
//     login through connect_<server> with the $BROWSER that follows redirects), in this keyring session;
//   - test/fixtures/conformance/sdk-client.mjs: the SDK's own OAuth example client, made non-interactive (the
//     baseline).
// The proxy must pass every scenario the SDK example passes, except the ones in
// test/fixtures/conformance/expected-failures.yml, which says why for each; the runner fails a scenario listed
// there that passes (a stale entry), so the list only shrinks.

const require = createRequire(import.meta.url);
const runner = join(dirname(require.resolve('@modelcontextprotocol/conformance/package.json')), 'dist/index.js');
const proxyClient = join(repoRoot, 'test/fixtures/conformance/proxy-client.mjs');
const sdkClient = join(repoRoot, 'test/fixtures/conformance/sdk-client.mjs');
const expectedFailuresFile = join(repoRoot, 'test/fixtures/conformance/expected-failures.yml');

/** `conformance client --suite auth` (0.1.13). */
const AUTH_SUITE = [
  'auth/metadata-default',
  'auth/metadata-var1',
  'auth/metadata-var2',
  'auth/metadata-var3',
  'auth/basic-cimd',
  'auth/scope-from-www-authenticate',
  'auth/scope-from-scopes-supported',
  'auth/scope-omitted-when-undefined',
  'auth/scope-step-up',
  'auth/scope-retry-limit',
  'auth/token-endpoint-auth-basic',
  'auth/token-endpoint-auth-post',
  'auth/token-endpoint-auth-none',
  'auth/resource-mismatch',
  'auth/pre-registration',
];
/** The other auth scenarios of the runner (suites "extensions" and "backcompat"): machine clients and 2025-03-26. */
const OTHER_AUTH = [
  'auth/client-credentials-basic',
  'auth/client-credentials-jwt',
  'auth/2025-03-26-oauth-metadata-backcompat',
  'auth/2025-03-26-oauth-endpoint-fallback',
];
const SCENARIOS = [...AUTH_SUITE, ...OTHER_AUTH];
/** Scenarios run at once: each proxy client starts several processes and uses the one keyring daemon. */
const PROXY_CONCURRENCY = 4;
const SDK_CONCURRENCY = 4;
/** Per client run, given to the runner (its default is 30 s, too short for a proxy start and login on a busy machine). */
const CLIENT_MS = 90_000;

interface Outcome {
  scenario: string;
  /** The runner's verdict (with the expected-failures file for the proxy). */
  exitCode: number;
  passed: number;
  failed: number;
  warnings: number;
  /** No FAILURE and no WARNING check: what the runner counts as a passed scenario. */
  ok: boolean;
  output: string;
}

async function checksOf(dir: string): Promise<Array<{ status: string; id: string; description?: string }>> {
  // -o <dir> → <dir>/auth/<scenario>-<timestamp>/checks.json
  const sub = join(dir, 'auth');
  const [entry] = await readdir(sub).catch(() => [] as string[]);
  if (!entry) return [];
  return JSON.parse(await readFile(join(sub, entry, 'checks.json'), 'utf8')) as Array<{ status: string; id: string }>;
}

function runScenario(client: string, scenario: string, outDir: string, expectedFailures?: string): Promise<Outcome> {
  const dir = join(outDir, scenario.replace(/\W/g, '_'));
  const args = [runner, 'client', '--command', `${JSON.stringify(process.execPath)} ${JSON.stringify(client)}`, '--scenario', scenario];
  args.push('--timeout', String(CLIENT_MS), '-o', dir);
  if (expectedFailures) args.push('--expected-failures', expectedFailures);
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: tmpdir(), timeout: CLIENT_MS + 30_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      void checksOf(dir).then((checks) => {
        const count = (status: string): number => checks.filter((check) => check.status === status).length;
        const failed = count('FAILURE');
        const warnings = count('WARNING');
        resolve({
          scenario,
          exitCode,
          passed: count('SUCCESS'),
          failed,
          warnings,
          ok: checks.length > 0 && failed + warnings === 0,
          output: stdout + stderr,
        });
      });
    });
  });
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

let outDir: string;
const proxy = new Map<string, Outcome>();
const sdk = new Map<string, Outcome>();
let expectedFailures: string[];

beforeAll(async () => {
  requireKeyringSession();
  outDir = await mkdtemp(join(tmpdir(), 'keyproxy-conformance-'));
  // The file is the runner's YAML (`client:` then `- <scenario>  # why` lines): its list items are the names.
  expectedFailures = [...(await readFile(expectedFailuresFile, 'utf8')).matchAll(/^\s*-\s*(\S+)/gm)].map((match) => match[1]!);
  // The proxy clients share the keyring daemon (a few at a time); the SDK example's runs are light.
  await Promise.all([
    pool(SCENARIOS, PROXY_CONCURRENCY, async (scenario) =>
      proxy.set(scenario, await runScenario(proxyClient, scenario, join(outDir, 'proxy'), expectedFailuresFile)),
    ),
    pool(SCENARIOS, SDK_CONCURRENCY, async (scenario) => sdk.set(scenario, await runScenario(sdkClient, scenario, join(outDir, 'sdk')))),
  ]);
  const row = (name: string, list: readonly string[]): string =>
    `${name}: proxy ${list.filter((s) => proxy.get(s)?.ok).length}/${list.length}, SDK example ${list.filter((s) => sdk.get(s)?.ok).length}/${list.length}`;
  console.log(`conformance ${row('auth suite', AUTH_SUITE)}; ${row('other auth scenarios', OTHER_AUTH)}`);
}, 900_000);

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('MCP conformance client auth scenarios through mcp-keyproxy', () => {
  it.each(SCENARIOS)('%s: passes, or fails as expected-failures.yml says (a passing listed scenario fails)', (scenario) => {
    const outcome = proxy.get(scenario)!;
    expect(outcome, outcome?.output).toBeDefined();
    expect(outcome.exitCode, `${scenario} through the proxy:\n${outcome.output.slice(-6000)}`).toBe(0);
    expect(outcome.ok).toBe(!expectedFailures.includes(scenario));
  });

  it('passes every scenario the SDK example client passes, but for the listed expected failures', () => {
    const sdkPassed = SCENARIOS.filter((scenario) => sdk.get(scenario)?.ok);
    // The baseline ran: the SDK example passes most of the auth suite (else the runner or the example broke).
    expect(sdkPassed.length).toBeGreaterThanOrEqual(AUTH_SUITE.length - 1);
    const missing = sdkPassed.filter((scenario) => !proxy.get(scenario)?.ok && !expectedFailures.includes(scenario));
    expect(missing).toEqual([]);
  });
});
