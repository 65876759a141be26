import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import * as path from 'node:path';
import { Script } from 'node:vm';

/** What the cache did for the chunks loaded so far (for tests and the start-up benchmark). */
export interface CodeCacheUse {
  /** Chunks whose compiled code came from the cache. */
  readonly reused: string[];
  /** Chunks compiled from source (no cache yet, or V8 refused it); their code is written at exit. */
  readonly compiled: string[];
}

/** The internals of a CommonJS module that loading one goes through (not in @types/node). */
interface LoadingModule {
  exports: unknown;
  _compile(content: string, filename: string): unknown;
}

/**
 * Node 20's stand-in for `module.enableCompileCache()` (Node ≥ 22.1), for the bundle's own chunks only: V8's code
 * cache. A chunk of `chunkDir` is compiled with the code that an earlier run left in `cacheDir` (one file per chunk),
 * and a chunk compiled from source has its code written there when the process exits, with whatever functions the
 * run compiled by then (a start's path, not only the top level). Every other module loads as Node loads it.
 *
 * Hand-written, not a library: the one library for this (v8-compile-cache) keeps its cache in the shared temp
 * folder, where another local user could plant compiled code, and hashes every source with node:crypto, whose load
 * costs a start about as much as the cache saves. V8 checks cached code against the length of its source, not its
 * text, so `cacheDir` must be one build's alone (compile-cache.ts names it after the build's hash), and folders of
 * other builds are removed when this one is written. It is entered by overriding `Module.prototype._compile`, as
 * every code cache for CommonJS has done (Node's own does it inside that function).
 */
export function cacheChunkCode(cacheDir: string, chunkDir: string): CodeCacheUse {
  const use = { reused: [] as string[], compiled: [] as string[] };
  const fresh: Array<{ file: string; script: Script }> = [];
  const proto = nodeModule.Module.prototype as unknown as LoadingModule;
  const compile = proto._compile;
  proto._compile = function (this: LoadingModule, content: string, filename: string): unknown {
    if (path.dirname(filename) !== chunkDir || !filename.endsWith('.cjs')) return compile.call(this, content, filename);
    const name = path.basename(filename);
    const file = path.join(cacheDir, `${name}.v8`);
    const cachedData = readIfPresent(file);
    const script = new Script(nodeModule.Module.wrap(content), { filename, ...(cachedData && { cachedData }) });
    if (cachedData && script.cachedDataRejected === false) {
      use.reused.push(name);
    } else {
      use.compiled.push(name);
      if (fresh.push({ file, script }) === 1) process.once('exit', () => writeCodeCache(cacheDir, fresh));
    }
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    const require = nodeModule.createRequire(filename);
    return wrapper.call(this.exports, this.exports, require, this, filename, chunkDir);
  };
  return use;
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Writes each script's compiled code (synchronously: the process is exiting), each file through a temporary name
 * and a rename, so a crash leaves a whole file or none; V8 refuses a file whose length or version does not match.
 * Not files/atomic-write.ts: an exit handler cannot wait for it, and its library would load at every start.
 * Then removes the folders of other builds beside this one.
 */
function writeCodeCache(cacheDir: string, fresh: ReadonlyArray<{ file: string; script: Script }>): void {
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    for (const { file, script } of fresh) {
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
      renameSync(temp, file);
    }
    const parent = path.dirname(cacheDir);
    for (const other of readdirSync(parent)) {
      if (other !== path.basename(cacheDir) && other.startsWith(BUILD_FOLDER_PREFIX)) {
        rmSync(path.join(parent, other), { recursive: true, force: true });
      }
    }
  } catch {
    // A cache that cannot be written only costs the next start the compile it would have saved.
  }
}

/** The folder of one build's compiled code is `<prefix><build hash>` in the compile cache folder. */
export const BUILD_FOLDER_PREFIX = 'v8-';
