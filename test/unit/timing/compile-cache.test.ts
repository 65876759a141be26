import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { enableCompileCache, type CompileCacheRuntime } from '../../../src/timing/compile-cache.js';

const stateDir = () => join(mkdtempSync(join(tmpdir(), 'mcp-keyproxy-compile-cache-')), 'state');
/** A chunk folder nothing is loaded from: the Node 20 path's hook stays inert in this process. */
const noChunks = () => mkdtempSync(join(tmpdir(), 'mcp-keyproxy-no-chunks-'));

const node20 = (build: string | undefined, sourceMaps = false): CompileCacheRuntime => ({
  enable: undefined,
  build,
  chunkDir: noChunks(),
  sourceMaps,
});
const node22 = (enable: (dir: string) => unknown): CompileCacheRuntime => ({
  enable,
  build: undefined,
  chunkDir: noChunks(),
  sourceMaps: false,
});

describe('the compile cache', () => {
  it('is off, and nothing is created, on Node 20 when src/ runs unbundled or with source maps on', () => {
    for (const runtime of [node20(undefined), node20('0123456789abcdef', true)]) {
      const state = stateDir();
      expect(enableCompileCache({ MCP_KEYPROXY_STATE_DIR: state }, runtime)).toBeUndefined();
      expect(existsSync(state)).toBe(false);
    }
  });

  it("is Node's own where Node has one (≥ 22.1), in compile-cache/ of the state directory, mode 0700, never the shared temp folder", () => {
    const state = stateDir();
    const enable = vi.fn();
    const cache = enableCompileCache({ MCP_KEYPROXY_STATE_DIR: state }, node22(enable));
    expect(cache).toEqual({ kind: 'node', dir: join(state, 'compile-cache') });
    expect(enable).toHaveBeenCalledExactlyOnceWith(join(state, 'compile-cache'));
    expect(statSync(join(state, 'compile-cache')).mode & 0o777).toBe(0o700);
  });

  it("is V8's code cache for the bundle's chunks on Node 20, in a folder of the build's own", () => {
    const state = stateDir();
    const cache = enableCompileCache({ MCP_KEYPROXY_STATE_DIR: state }, node20('0123456789abcdef'));
    expect(cache).toMatchObject({
      kind: 'chunks',
      dir: join(state, 'compile-cache', 'v8-0123456789abcdef'),
      use: { reused: [], compiled: [] },
    });
    expect(statSync(join(state, 'compile-cache')).mode & 0o777).toBe(0o700);
  });

  it('stays off when the folder is open to others', () => {
    for (const runtime of [node22(vi.fn()), node20('0123456789abcdef')]) {
      const state = stateDir();
      mkdirSync(join(state, 'compile-cache'), { recursive: true });
      chmodSync(join(state, 'compile-cache'), 0o777);
      expect(enableCompileCache({ MCP_KEYPROXY_STATE_DIR: state }, runtime)).toBeUndefined();
      if (runtime.enable) expect(runtime.enable).not.toHaveBeenCalled();
    }
  });
});
