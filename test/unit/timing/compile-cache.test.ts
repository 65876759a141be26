import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { enableCompileCache } from '../../../src/timing/compile-cache.js';

const stateDir = () => join(mkdtempSync(join(tmpdir(), 'mcp-keyproxy-compile-cache-')), 'state');

describe('the module compile cache', () => {
  it('is off, and nothing is created, on a Node without module.enableCompileCache (Node 20)', () => {
    const state = stateDir();
    expect(enableCompileCache({ MCP_KEYPROXY_STATE_DIR: state }, undefined)).toBeUndefined();
    expect(existsSync(state)).toBe(false);
  });

  it('lives in compile-cache/ of the state directory, mode 0700, never in the shared temp folder', () => {
    const state = stateDir();
    const enable = vi.fn();
    const dir = enableCompileCache({ MCP_KEYPROXY_STATE_DIR: state }, enable);
    expect(dir).toBe(join(state, 'compile-cache'));
    expect(enable).toHaveBeenCalledExactlyOnceWith(join(state, 'compile-cache'));
    expect(statSync(dir!).mode & 0o777).toBe(0o700);
  });

  it('stays off when the folder is open to others', () => {
    const state = stateDir();
    mkdirSync(join(state, 'compile-cache'), { recursive: true });
    chmodSync(join(state, 'compile-cache'), 0o777);
    const enable = vi.fn();
    expect(enableCompileCache({ MCP_KEYPROXY_STATE_DIR: state }, enable)).toBeUndefined();
    expect(enable).not.toHaveBeenCalled();
  });
});
