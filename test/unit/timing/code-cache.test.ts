// Node 20's code cache for the bundle's chunks (src/timing/code-cache.ts), in child processes: it overrides how
// CommonJS modules compile, which this test process must not. Runs tsc's output of the module (dist/), as the
// bundle tests do.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const built = fileURLToPath(new URL('../../../dist/timing/code-cache.js', import.meta.url));

interface Run {
  reused: string[];
  compiled: string[];
  answer: number;
  dir: string;
  file: string;
  other: string;
}

/**
 * Loads `a.cjs` of `chunks` (which requires `b.cjs` beside it, and `other.cjs` from elsewhere) in a new process with
 * the cache in `cacheDir`; what the cache did and what the chunk answered. The process exits, which writes the cache.
 */
function load(chunks: string, cacheDir: string): Run {
  if (!existsSync(built)) throw new Error('dist/timing/code-cache.js is missing: run `npm run build` first (`npm run test:all` does).');
  const script = `
    import { createRequire } from 'node:module';
    const { cacheChunkCode } = await import(${JSON.stringify(built)});
    const use = cacheChunkCode(${JSON.stringify(cacheDir)}, ${JSON.stringify(chunks)});
    const a = createRequire(import.meta.url)(${JSON.stringify(join(chunks, 'a.cjs'))});
    console.log(JSON.stringify({ ...use, ...a.describe() }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout) as Run;
}

/** A chunk folder: a.cjs answers `answer` and requires b.cjs beside it and other.cjs outside it. */
function chunkFolder(answer: number): { chunks: string; cacheRoot: string } {
  const root = mkdtempSync(join(tmpdir(), 'mcp-keyproxy-code-cache-'));
  const chunks = join(root, 'bundle');
  mkdirSync(chunks);
  mkdirSync(join(root, 'elsewhere'));
  writeChunk(chunks, answer);
  writeFileSync(join(chunks, 'b.cjs'), 'exports.dir = __dirname;\nexports.file = __filename;\n');
  writeFileSync(join(root, 'elsewhere', 'other.cjs'), "exports.name = 'other';\n");
  return { chunks, cacheRoot: join(root, 'cache') };
}

function writeChunk(chunks: string, answer: number): void {
  writeFileSync(
    join(chunks, 'a.cjs'),
    `const b = require('./b.cjs');
const other = require('../elsewhere/other.cjs');
exports.describe = () => ({ answer: ${answer}, dir: b.dir, file: b.file, other: other.name });
`,
  );
}

describe("the code cache of the bundle's chunks (Node 20)", () => {
  it("compiles a chunk once: the next process runs it from the cache, as a module with Node's require, __dirname and __filename", () => {
    const { chunks, cacheRoot } = chunkFolder(42);
    const cacheDir = join(cacheRoot, 'v8-build1');
    const first = load(chunks, cacheDir);
    expect(first).toMatchObject({ reused: [], compiled: ['a.cjs', 'b.cjs'], answer: 42, other: 'other' });
    expect(first.dir).toBe(chunks);
    expect(first.file).toBe(join(chunks, 'b.cjs'));
    // Written at exit, one file per chunk of the folder (other.cjs is not one), each 0600 in a 0700 folder.
    expect(readdirSync(cacheDir).sort()).toEqual(['a.cjs.v8', 'b.cjs.v8']);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(cacheDir)) expect(statSync(join(cacheDir, file)).mode & 0o777).toBe(0o600);

    expect(load(chunks, cacheDir)).toMatchObject({ reused: ['a.cjs', 'b.cjs'], compiled: [], answer: 42, other: 'other' });
  });

  it('compiles from source a chunk whose cached code V8 refuses, and replaces that code', () => {
    const { chunks, cacheRoot } = chunkFolder(42);
    const cacheDir = join(cacheRoot, 'v8-build1');
    load(chunks, cacheDir);
    const size = statSync(join(cacheDir, 'a.cjs.v8')).size;
    writeFileSync(join(cacheDir, 'a.cjs.v8'), Buffer.alloc(size, 7));
    expect(load(chunks, cacheDir)).toMatchObject({ reused: ['b.cjs'], compiled: ['a.cjs'], answer: 42 });
    expect(load(chunks, cacheDir)).toMatchObject({ reused: ['a.cjs', 'b.cjs'], compiled: [] });
  });

  it("keeps one build's code only: another build compiles afresh, and its exit removes the earlier build's folder", () => {
    const { chunks, cacheRoot } = chunkFolder(42);
    load(chunks, join(cacheRoot, 'v8-build1'));
    // The same length: V8 would take the earlier build's code for it, which is why each build has a folder.
    writeChunk(chunks, 43);
    expect(load(chunks, join(cacheRoot, 'v8-build2'))).toMatchObject({ reused: [], compiled: ['a.cjs', 'b.cjs'], answer: 43 });
    expect(readdirSync(cacheRoot)).toEqual(['v8-build2']);
  });
});
