// The `run <server>` path for a local stdio server must not load zod, the heaviest import of the start-up path (the
// config is validated with it only when the validated-config cache misses, through a lazy import). This reads the
// metafile (esbuild's shape) that scripts/bundle.mjs writes and follows the chunks' static imports from what that
// path loads.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const metafilePath = 'dist/bundle-meta.json';

interface Metafile {
  outputs: Record<
    string,
    { entryPoint?: string; inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string; external?: boolean }> }
  >;
}

function readMetafile(): Metafile {
  const file = new URL(metafilePath, root);
  if (!existsSync(file)) {
    throw new Error(
      `${metafilePath} is missing: run \`npm run build\` first. This test checks the bundle that build writes; plain ` +
        '`npm test` does not build (`npm run test:all`, i.e. scripts/test-all.sh, does).',
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Metafile;
}

/** The bundle's input for a src/ module: the bundler bundles tsc's output, so `src/a/b.ts` went in as `dist/a/b.js`. */
const bundleInput = (source: string) => source.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js');

const isZod = (input: string) => /(^|\/)node_modules\/zod\//.test(input);

/** The output chunk that holds an input module. */
function chunkHolding(meta: Metafile, input: string): string {
  const chunk = Object.keys(meta.outputs).find((output) => output.endsWith('.cjs') && input in meta.outputs[output]!.inputs);
  if (chunk === undefined) {
    throw new Error(`no chunk in ${metafilePath} holds ${input}: the build is stale or the module moved (run \`npm run build\`)`);
  }
  return chunk;
}

/** Every chunk reachable from `starts` through static imports, each with the chain of chunks that led to it. */
function staticallyReachable(meta: Metafile, starts: string[]): Map<string, string[]> {
  const chains = new Map(starts.map((start) => [start, [start]]));
  const queue = [...starts];
  for (let chunk = queue.shift(); chunk !== undefined; chunk = queue.shift()) {
    for (const { path, kind, external } of meta.outputs[chunk]?.imports ?? []) {
      if (external || kind !== 'import-statement' || chains.has(path)) continue;
      chains.set(path, [...chains.get(chunk)!, path]);
      queue.push(path);
    }
  }
  return chains;
}

/** The chunks bin/mcp-keyproxy.js requires: what every command loads first. */
function binEntryChunks(): string[] {
  const bin = readFileSync(new URL('bin/mcp-keyproxy.js', root), 'utf8');
  return [...bin.matchAll(/require\(\s*['"]\.\.\/(dist\/bundle\/[^'"]+)['"]\s*\)/g)].map((match) => match[1]!);
}

/** The chunks the stdio path loads first: the bin's, and those of the server, its launcher and the router. */
function stdioPathStarts(meta: Metafile): string[] {
  const entries = binEntryChunks();
  expect(entries.length, 'bin/mcp-keyproxy.js requires no chunk of dist/bundle/').toBeGreaterThan(0);
  for (const entry of entries) expect(Object.keys(meta.outputs), `${entry} (required by the bin) is not in the build`).toContain(entry);
  return [
    ...entries,
    // The fast path of run <server> (src/index.ts imports it; listed so a move to import() stays covered).
    chunkHolding(meta, bundleInput('src/cli/plain-run.ts')),
    chunkHolding(meta, bundleInput('src/proxy/serve.ts')),
    chunkHolding(meta, bundleInput('src/proxy/local/launch-local.ts')),
    // Not a static import: serve.ts loads the router with import() on every transparent start.
    chunkHolding(meta, bundleInput('src/proxy/core/router.ts')),
  ];
}

/** Each chunk reachable from `starts` that holds an input matching `isLibrary`, with how it is reached. */
function reachedFrom(meta: Metafile, starts: string[], isLibrary: (input: string) => boolean): string[] {
  return [...staticallyReachable(meta, starts)].flatMap(([chunk, chain]) =>
    Object.keys(meta.outputs[chunk]?.inputs ?? {})
      .filter(isLibrary)
      .slice(0, 1)
      .map((input) => `${chain.join(' → ')} holds ${input}`),
  );
}

/** Each chunk reachable from the stdio path that holds an input matching `isLibrary`, with how it is reached. */
const reachedFromStdioPath = (meta: Metafile, isLibrary: (input: string) => boolean): string[] =>
  reachedFrom(meta, stdioPathStarts(meta), isLibrary);

describe('the bundle of the stdio path (run <server>, local server)', () => {
  it('reaches no zod through static imports', () => {
    const offending = reachedFromStdioPath(readMetafile(), isZod);
    expect(offending, 'zod is loaded on the stdio path: import it lazily (await import) where it is needed').toEqual([]);
  });

  // A local server needs none of these: they load only for what needs them.
  for (const [what, isUnwanted, fix] of [
    [
      'pino transports (thread-stream)',
      (input: string) => input.includes('node_modules/thread-stream/'),
      'scripts/bundle.mjs replaces thread-stream with a stub: keep it',
    ],
    [
      'remote or OAuth code',
      (input: string) =>
        input.startsWith('dist/proxy/remote/') ||
        // jose signs private_key_jwt assertions (oauth/private-key-jwt.ts, through the SDK's auth-extensions).
        input.includes('node_modules/jose/') ||
        /node_modules\/@modelcontextprotocol\/sdk\/dist\/esm\/client\/(streamableHttp|sse|auth|auth-extensions)\.js$/.test(input),
      'load it only for a remote server (launch.ts, loadRemote)',
    ],
    [
      'a program runner (execa)',
      (input: string) => input.includes('node_modules/execa/'),
      'import it lazily where a command source or a dialog runs a program',
    ],
    [
      "the 2026-era adapter of the proxy's own servers",
      (input: string) => input === 'dist/proxy/era/modern-front.js',
      'only the aggregate and a gated server answer the client themselves (start-aggregate.ts, gated-proxy.ts, both loaded lazily)',
    ],
    [
      'pino',
      (input: string) => /node_modules\/(pino|sonic-boom|safe-stable-stringify)\//.test(input),
      'src/log/logger.ts loads pino at the first line logged (after the server is spawned): import only its types elsewhere',
    ],
    [
      'commander',
      (input: string) => input.includes('node_modules/commander/'),
      'cli/plain-run.ts and cli/serve-run.ts must not import commander: only the wiring in cli/run.ts does',
    ],
    [
      'the other commands',
      (input: string) => /^dist\/cli\/(program|run|secrets-\w+|doctor|audit|consent|install|migrate|clients|undo)\.js$/.test(input),
      'src/index.ts imports cli/program.ts only for what is not a plain run <server> (cli/plain-run.ts)',
    ],
  ] as const) {
    it(`reaches no ${what} through static imports`, () => {
      expect(reachedFromStdioPath(readMetafile(), isUnwanted), `${what} on the stdio path: ${fix}`).toEqual([]);
    });
  }

  it('loads everything the bin reaches through static imports from its two entries and the runtime', () => {
    // Each file costs Node 20 a resolve, a read and a link at every start: scripts/bundle.mjs puts each entry's static
    // imports into its own chunk (the early one, then the CLI's) rather than the ~30 a bundler makes when it splits
    // them by who else imports them.
    const meta = readMetafile();
    const entries = binEntryChunks();
    expect(entries).toEqual(['dist/bundle/early.cjs', 'dist/bundle/index.cjs']);
    expect(chunkHolding(meta, bundleInput('src/secrets/keychain-prefetch.ts'))).toBe('dist/bundle/early.cjs');
    expect(chunkHolding(meta, bundleInput('src/cli/plain-run.ts'))).toBe('dist/bundle/index.cjs');
    const loaded = [...staticallyReachable(meta, entries).keys()];
    expect(loaded.length, `the bin loads ${loaded.join(', ')}`).toBeLessThanOrEqual(3);
    // The early chunk runs before the keychain read can begin: our own small modules only (no pino, no SDK).
    const early = Object.keys(meta.outputs['dist/bundle/early.cjs']!.inputs);
    expect(early).toContain(bundleInput('src/early.ts'));
    expect(early.filter((input) => !input.startsWith('dist/'))).toEqual([]);
  });

  it('loads neither worker_threads nor assert at start (pino and sonic-boom get stand-ins in scripts/bundle.mjs)', () => {
    // In a child process: what Node loaded once the bundle the bin requires is evaluated.
    const script = `require(${JSON.stringify(fileURLToPath(new URL('dist/bundle/index.cjs', root)))});
      console.log(JSON.stringify(process.moduleLoadList.filter((name) => name.startsWith('NativeModule '))));`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.status, child.stderr).toBe(0);
    const loaded = JSON.parse(child.stdout) as string[];
    expect(loaded, 'the start path loads no Node module: the check is looking at the wrong thing').toContain('NativeModule child_process');
    expect(loaded.filter((name) => /^NativeModule (worker_threads|assert)$/.test(name))).toEqual([]);
  });

  it('sees the commands and the remote code where they are (so the checks above are not vacuous)', () => {
    const meta = readMetafile();
    const program = staticallyReachable(meta, [chunkHolding(meta, bundleInput('src/cli/program.ts'))]);
    const remote = staticallyReachable(meta, [chunkHolding(meta, bundleInput('src/proxy/remote/launch-remote.ts'))]);
    const holds = (chunks: Map<string, string[]>, input: string) =>
      [...chunks.keys()].some((chunk) => input in (meta.outputs[chunk]?.inputs ?? {}));
    expect(holds(program, bundleInput('src/cli/secrets-set.ts'))).toBe(true);
    expect(holds(remote, bundleInput('src/proxy/remote/session-transport.ts'))).toBe(true);
    // The private_key_jwt signer is in the bundle, in chunks of its own (loaded on a first signed token request).
    const inputs = Object.values(meta.outputs).flatMap((output) => Object.keys(output.inputs));
    expect(inputs.some((input) => input.includes('node_modules/jose/'))).toBe(true);
    expect(inputs.some((input) => input.includes('node_modules/pino/'))).toBe(true);
    expect(inputs).toContain('node_modules/@modelcontextprotocol/sdk/dist/esm/client/auth-extensions.js');
  });

  // Only a person at a terminal needs these: human-readable logs (stderr is a TTY) and the hidden prompt.
  for (const [library, folder] of [
    ['pino-pretty', 'pino-pretty'],
    ['@inquirer/password', '@inquirer'],
  ] as const) {
    it(`holds ${library} in the bundle, but reaches it from no chunk of the stdio path through static imports`, () => {
      const meta = readMetafile();
      const isLibrary = (input: string) => input.includes(`node_modules/${folder}/`);
      expect(Object.values(meta.outputs).some((output) => Object.keys(output.inputs).some(isLibrary))).toBe(true);
      expect(reachedFromStdioPath(meta, isLibrary), `${library} is loaded on the stdio path: import it lazily`).toEqual([]);
    });
  }

  it('sees zod where it is: in what the config parser loads (so the check above is not vacuous)', () => {
    const meta = readMetafile();
    const withZod = Object.keys(meta.outputs).filter((output) => Object.keys(meta.outputs[output]!.inputs).some(isZod));
    expect(withZod.length).toBeGreaterThan(0);
    // The config parser, which validates with zod, is a dynamic import of config/load.ts.
    const parser = chunkHolding(meta, bundleInput('src/config/parse.ts'));
    const everything = staticallyReachable(meta, [parser]);
    expect([...everything.keys()].some((chunk) => withZod.includes(chunk))).toBe(true);
  });
});

describe('the bundle of the aggregate’s start (run with no server name, every server’s secrets at hand)', () => {
  /** The chunks that start loads: the stdio path's, and the aggregate's own (each loaded with import()). */
  const aggregateStarts = (meta: Metafile) => [
    ...stdioPathStarts(meta),
    chunkHolding(meta, bundleInput('src/proxy/aggregate/serve-aggregate.ts')),
    chunkHolding(meta, bundleInput('src/proxy/aggregate/start-aggregate.ts')),
    chunkHolding(meta, bundleInput('src/proxy/era/modern-front.ts')),
  ];
  const sdk = (path: string) => (input: string) => input.includes(`node_modules/@modelcontextprotocol/sdk/dist/esm/${path}`);
  const unwanted = [
    ['zod', isZod],
    ["the MCP SDK's types (zod schemas built at load)", sdk('types.js')],
    ["the MCP SDK's Server", sdk('server/')],
    ['Ajv', (input: string) => input.includes('node_modules/ajv/')],
    ['commander', (input: string) => input.includes('node_modules/commander/')],
  ] as const;

  for (const [what, isUnwanted] of unwanted) {
    it(`reaches no ${what} through static imports`, () => {
      const meta = readMetafile();
      const offending = reachedFrom(meta, aggregateStarts(meta), isUnwanted);
      expect(
        offending,
        `${what} on the aggregate's start: only a gated member's setup server needs it (load gated-member.ts lazily)`,
      ).toEqual([]);
    });
  }

  it('sees them where they are: behind a gated member (so the checks above are not vacuous)', () => {
    const meta = readMetafile();
    const gated = staticallyReachable(meta, [chunkHolding(meta, bundleInput('src/proxy/aggregate/gated-member.ts'))]);
    for (const [what, isUnwanted] of unwanted.slice(0, 4)) {
      expect(
        [...gated.keys()].some((chunk) => Object.keys(meta.outputs[chunk]?.inputs ?? {}).some(isUnwanted)),
        what,
      ).toBe(true);
    }
  });
});
