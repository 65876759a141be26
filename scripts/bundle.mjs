// Bundles the tsc output (dist/) into dist/bundle/, which bin/mcp-keyproxy.js loads. Node 20 has no module compile
// cache, so start-up time goes mostly into resolving and loading a few hundred small module files; a bundle loads
// a handful. Run by `npm run build` after tsc.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: clear out the previous build's chunks so they are not packed with this one.
rmSync('dist/bundle', { recursive: true, force: true });

// What was bundled, as one hash: the validated-config cache (src/config/cache.ts) keys its entries by it, so a
// rebuilt clone whose checks changed does not trust what the earlier build validated.
const buildId = createHash('sha256');
for (const file of readdirSync('dist', { recursive: true })
  .filter((name) => name.endsWith('.js') && !name.startsWith('bundle'))
  .sort()) {
  buildId.update(`${file}\0`).update(readFileSync(`dist/${file}`));
}
buildId.update(readFileSync('package-lock.json'));

// pino starts a transport (pino.transport) in a worker thread loaded from pino's own files, which a bundle does not
// have; src/log/logger.ts writes through pino.destination and never starts one. thread-stream, the transports'
// worker plumbing, is replaced by a stub that says so if anything ever asks for it: nothing to evaluate at start.
const noTransports = {
  name: 'no-pino-transports',
  setup(build) {
    build.onResolve({ filter: /^thread-stream$/ }, () => ({ path: 'thread-stream', namespace: 'no-pino-transports' }));
    build.onLoad({ filter: /.*/, namespace: 'no-pino-transports' }, () => ({
      contents:
        "module.exports = class ThreadStream { constructor() { throw new Error('pino transports are not in the mcp-keyproxy bundle: log through pino.destination'); } };",
      loader: 'js',
    }));
  },
};

const result = await build({
  entryPoints: ['dist/index.js'],
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Code splitting keeps every `await import(...)` in src a separate chunk, loaded only when that path runs.
  splitting: true,
  // Less text for V8 to parse at every start (≈5 ms here). Names are kept, so a stack trace still names functions.
  minifyWhitespace: true,
  minifySyntax: true,
  // Chained through tsc's own maps: with NODE_OPTIONS=--enable-source-maps a stack trace points at src/*.ts lines.
  // Not turned on in bin/ because parsing the maps costs every start. Positions are all a trace needs, so the maps
  // leave out the sources' text (the package would grow by a further ~2 MB unpacked).
  sourcemap: true,
  sourcesContent: false,
  // Native addon (a .node binary per platform), loaded with createRequire in src/secrets/keyring-backend.ts.
  // Everything else is bundled. pino is safe to bundle because src/log/logger.ts writes through pino.destination,
  // never a transport: transports start worker threads from pino's own files, which a bundle does not have.
  external: ['@napi-rs/keyring'],
  // A package's ES module build first: jsonc-parser's "main" is a UMD build whose require() calls esbuild cannot follow.
  mainFields: ['module', 'main'],
  // CommonJS dependencies that read __filename (write-file-atomic only seeds its temp file names with it, beside the
  // pid and a counter) get a fixed name: import.meta.filename would be undefined before Node 20.11.
  define: { __MCP_KEYPROXY_BUILD__: JSON.stringify(buildId.digest('hex').slice(0, 16)), __filename: JSON.stringify('mcp-keyproxy.js') },
  // CommonJS dependencies (commander, pino, ajv, cross-spawn...) require Node built-ins; in an ES module esbuild's
  // require shim needs a real `require` in scope to do that.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  plugins: [noTransports],
  logLevel: 'warning',
  // Which input went into which chunk, and which chunk imports which: test/unit/bundle/stdio-chunk.test.ts reads it
  // to check that the stdio path loads no zod. Written beside dist/bundle/, not in it, so the package leaves it out.
  metafile: true,
});
writeFileSync('dist/bundle-meta.json', JSON.stringify(result.metafile));
