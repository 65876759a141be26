import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { runCli } from '../../../src/cli/program.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';

/** `mcp-keyproxy secrets set github TOKEN` in-process, with `input` piped on stdin and an in-memory keychain. */
async function secretsSet(input: string) {
  let out = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const store = new MemoryStore();
  const stateDir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-cli-'));
  const ctx: CliContext = {
    env: { MCP_KEYPROXY_STATE_DIR: stateDir, HOME: stateDir },
    cwd: stateDir,
    stdin: Readable.from([input]),
    stdout,
    stderr,
    openStore: () => store,
    openDialog: () => {
      throw new Error('no dialog in CLI tests');
    },
  };
  const code = await runCli(['node', 'mcp-keyproxy', 'secrets', 'set', 'github', 'TOKEN'], ctx);
  return { code, output: out, stored: await store.get('github', 'TOKEN') };
}

describe('secrets set: values too short to scrub', () => {
  it.each(['q', 'qzx', 'qzx9876', '🔑🔑🔑🔑🔑🔑🔑'])(
    'refuses %j (under 8 characters) with exit code 2 and stores nothing',
    async (value) => {
      const result = await secretsSet(`${value}\n`);
      expect(result.code).toBe(2);
      expect(result.output).toContain('shorter than 8 characters; nothing was stored');
      expect(result.output).not.toContain(value);
      expect(result.stored ?? undefined).toBeUndefined();
    },
  );

  it('stores a value of 8 characters', async () => {
    const result = await secretsSet('pass1234\n');
    expect(result.code).toBe(0);
    expect(result.stored).toBe('pass1234');
  });
});
