// Bundles the tsc output (dist/) into dist/bundle/, which bin/mcp-keyproxy.js loads. Node 20 has no module compile
// cache, so start-up time goes mostly into resolving and loading a few hundred small module files; a bundle loads
// a handful. Run by `npm run build` after tsc.
//
// The chunks are CommonJS (.cjs), as is the bin (bin/package.json): a CommonJS entry starts about 8 ms sooner than an
// ES module (no ES module loader, no facade of every export of each built-in it imports), and Node 20 can only
// cache the compiled code of a script, not of an ES module (src/timing/compile-cache.ts).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { rolldown } from 'rolldown';

// Chunk names carry content hashes: clear out the previous build's chunks so they are not packed with this one.
rmSync('dist/bundle', { recursive: true, force: true });

// What was bundled, and how, as one hash (src/build.ts reads it): the validated-config cache (src/config/cache.ts)
// keys its entries by it, so a rebuilt clone whose checks changed does not trust what the earlier build validated;
// and the compiled-code cache (src/timing/compile-cache.ts) keeps each build's code apart, because V8 checks cached
// code only against the length of its source. The bundler's version is in package-lock.json, its options in this file.
const buildId = createHash('sha256');
for (const file of readdirSync('dist', { recursive: true })
  .filter((name) => name.endsWith('.js') && !name.startsWith('bundle'))
  .sort()) {
  buildId.update(`${file}\0`).update(readFileSync(`dist/${file}`));
}
buildId.update(readFileSync('package-lock.json')).update(readFileSync(new URL(import.meta.url)));

// pino starts a transport (pino.transport) in a worker thread loaded from pino's own files, which a bundle does not
// have; src/log/logger.ts writes through pino.destination and never starts one. thread-stream, the transports'
// worker plumbing, is replaced by a stub that says so if anything ever asks for it: nothing to evaluate at start.
const noTransports = {
  name: 'no-pino-transports',
  resolveId: (id) => (id === 'thread-stream' ? '\0no-pino-transports' : undefined),
  load: (id) =>
    id === '\0no-pino-transports'
      ? "module.exports = class ThreadStream { constructor() { throw new Error('pino transports are not in the mcp-keyproxy bundle: log through pino.destination'); } };"
      : undefined,
};

// pino and sonic-boom load a Node built-in at require time for one call each that a run never makes: pino reads
// worker_threads' isMainThread only to set up an asynchronous destination (src/log/logger.ts writes synchronously,
// and the CLI never runs in a worker thread), sonic-boom asserts with assert once when an fd is bad. Compiling those
// built-ins' internals costs every start about 10 ms of CPU; they get stand-ins. assert is still the real one when
// called (a non-literal require, which the bundler leaves to the chunk's own require at run time).
const lightBuiltins = {
  name: 'light-builtins',
  resolveId(source, importer) {
    if (source === 'worker_threads' && importer?.includes('/node_modules/pino/lib/')) return '\0main-thread';
    if (source === 'assert' && importer?.includes('/node_modules/sonic-boom/')) return '\0lazy-assert';
    return undefined;
  },
  load(id) {
    if (id === '\0main-thread') return 'module.exports = { isMainThread: true };';
    if (id === '\0lazy-assert') return "const name = 'node:assert'; module.exports = (...args) => require(name)(...args);";
    return undefined;
  },
};

// Node built-ins our own modules import for calls that a start makes late or not at all (hashes and random ids,
// reading a server's stderr by lines, promise timers, async file calls): each is loaded at its first use rather than
// when its chunk is evaluated, as a CommonJS chunk would (compiling crypto's internals alone costs a start about
// 3.5 ms of CPU). Each export is a getter of the real module's, so a function, a class or a constant is itself.
const lazyBuiltinNames = ['node:crypto', 'node:readline', 'node:timers/promises', 'node:fs/promises'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  resolveId: (source, importer) =>
    lazyBuiltinNames.includes(source) && importer?.startsWith(`${process.cwd()}/dist/`) ? `\0lazy:${source}` : undefined,
  load(id) {
    if (!id.startsWith('\0lazy:')) return undefined;
    const name = id.slice('\0lazy:'.length);
    const keys = Object.keys(createRequire(import.meta.url)(name));
    // A non-literal require: the bundler leaves it to the chunk's own require, at the first use.
    return `const name = ${JSON.stringify(name)}; let loaded; const builtin = () => (loaded ??= require(name));
for (const key of ${JSON.stringify(keys)}) Object.defineProperty(exports, key, { enumerable: true, get: () => builtin()[key] });`;
  },
};

// The bundle's source maps chain through tsc's own: each dist/ module comes with its map, so with
// NODE_OPTIONS=--enable-source-maps a stack trace points at src/*.ts lines.
const tscMaps = {
  name: 'tsc-source-maps',
  load(id) {
    if (!id.startsWith(`${process.cwd()}/dist/`) || !existsSync(`${id}.map`)) return undefined;
    const code = readFileSync(id, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
    return { code, map: readFileSync(`${id}.map`, 'utf8') };
  },
};

// Every module an entry reaches through static imports is loaded at every start, whatever the command. bin/ loads
// two entries: the small early one (src/early.ts: what must come first, and the keychain read of a client's start,
// begun before the rest loads), then the CLI's (src/index.ts). Each holds all of its static imports (the CLI's
// without what the early one has); each dynamic import (the program and other commands, the router, remote and
// OAuth code, zod...) gets a chunk of its own. Node 20 has no module compile cache, and each extra file costs a
// resolve, a read and a link: the 145 modules of `run <server>` in one file load in about half the CPU time of the
// ~30 chunks a bundler splits them into when it does not know that a dynamic import's importer is already loaded.
// (esbuild, used before, cannot be told so; rolldown lets a chunk group be named by a test, and with
// preserveEntrySignatures 'allow-extension' an entry chunk holds its group instead of re-exporting it.)
const entries = { early: `${process.cwd()}/dist/early.js`, index: `${process.cwd()}/dist/index.js` };
const earlyModules = new Set();
const startModules = new Set();
const entryChunks = {
  name: 'entry-chunks',
  buildEnd() {
    const reach = (from, into, except) => {
      for (const queue = [from]; queue.length > 0;) {
        const id = queue.pop();
        if (into.has(id) || except.has(id)) continue;
        into.add(id);
        queue.push(...(this.getModuleInfo(id)?.importedIds ?? []));
      }
    };
    reach(entries.early, earlyModules, new Set());
    reach(entries.index, startModules, earlyModules);
  },
};

const bundle = await rolldown({
  input: entries,
  preserveEntrySignatures: 'allow-extension',
  platform: 'node',
  // Native addon (a .node binary per platform), loaded with createRequire in src/secrets/keyring-backend.ts.
  // Everything else is bundled. pino is safe to bundle because src/log/logger.ts writes through pino.destination,
  // never a transport: transports start worker threads from pino's own files, which a bundle does not have.
  external: ['@napi-rs/keyring'],
  // A package's ES module build first: jsonc-parser's "main" is a UMD build whose require() calls a bundler cannot follow.
  resolve: { mainFields: ['module', 'main'] },
  transform: {
    define: { __MCP_KEYPROXY_BUILD__: JSON.stringify(buildId.digest('hex').slice(0, 16)) },
  },
  plugins: [noTransports, lightBuiltins, lazyBuiltins, tscMaps, entryChunks],
  logLevel: 'warn',
});
const { output } = await bundle.write({
  dir: 'dist/bundle',
  format: 'cjs',
  entryFileNames: '[name].cjs',
  chunkFileNames: '[name]-[hash].cjs',
  codeSplitting: {
    groups: [
      { name: 'early', test: (id) => earlyModules.has(id), priority: 2 },
      { name: 'start', test: (id) => startModules.has(id), priority: 1 },
    ],
  },
  // Less text for V8 to parse at every start. Names are kept, so a stack trace still names functions.
  minify: { compress: true, mangle: false },
  // Positions are all a stack trace needs: the maps leave out the sources' text (the package would grow by ~2 MB).
  sourcemap: true,
  sourcemapExcludeSources: true,
});
await bundle.close();
if (startModules.size === 0 || earlyModules.size === 0) throw new Error('scripts/bundle.mjs: found no modules for an entry chunk');

// Which input went into which chunk, and which chunk imports which, in the shape of an esbuild metafile:
// test/unit/bundle/stdio-chunk.test.ts reads it to check what the stdio path loads. Written beside dist/bundle/,
// not in it, so the package leaves it out.
const chunkPath = (fileName) => `dist/bundle/${fileName}`;
const chunkNames = new Set(output.filter((item) => item.type === 'chunk').map((chunk) => chunk.fileName));
/** An import of another chunk, or of something left out of the bundle (a Node built-in, the keyring addon). */
const reference = (path, kind) => (chunkNames.has(path) ? { path: chunkPath(path), kind } : { path, kind, external: true });
const outputs = {};
for (const chunk of output) {
  if (chunk.type !== 'chunk') continue;
  outputs[chunkPath(chunk.fileName)] = {
    ...(chunk.isEntry && { entryPoint: relative(process.cwd(), chunk.facadeModuleId) }),
    inputs: Object.fromEntries(chunk.moduleIds.filter((id) => !id.startsWith('\0')).map((id) => [relative(process.cwd(), id), {}])),
    imports: [
      ...chunk.imports.map((path) => reference(path, 'import-statement')),
      ...chunk.dynamicImports.map((path) => reference(path, 'dynamic-import')),
    ],
  };
}
writeFileSync('dist/bundle-meta.json', JSON.stringify({ outputs }));
