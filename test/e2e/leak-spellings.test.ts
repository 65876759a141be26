import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CreateMessageRequestSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { connectThroughProxy, repoRoot, runBin, writeConfig } from '../helpers/proxy.js';

const fixture = join(repoRoot, 'test/fixtures/spelling-server.mjs');
const suffix = randomBytes(3).toString('hex');

/** One server per length class; `stored` values go through `secrets set`, the others are declared defaults. */
const KEYS = {
  // Characters every spelling treats differently: `/` `+` (base64, percent), a space (form), a quote (JSON), é (UTF-8).
  long: { value: `k3y/${randomBytes(9).toString('hex')}+ q"é`, stored: true },
  digits: { value: String(10_000_000 + (randomBytes(4).readUInt32BE() % 89_999_999)), stored: true },
  longDigits: { value: `9${Array.from(randomBytes(19), (byte) => byte % 10).join('')}`, stored: true },
  // 4 to 7 characters: refused by `secrets set`, but a default (or a value stored before the rule) is still scrubbed.
  short: { value: `k${randomBytes(2).toString('hex')}`, stored: false },
} as const;
type KeyName = keyof typeof KEYS;
const serverOf = (name: string) => `e2e-spell-${name}-${suffix}`;
const tooShort = serverOf('tiny');
let config: string;

const REDACTION = /\[REDACTED:[^\]]*\]/;

/** Undoes percent-encoding where it is valid (`decodeURIComponent` gives up on a text with one stray `%`). */
const percentDecoded = (text: string) =>
  text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
/** Undoes `\uXXXX` (also `\\uXXXX`) and JSON's short escapes. */
const jsonDecoded = (text: string) =>
  text
    .replace(/\\\\?u([0-9a-f]{4})/gi, (_escape, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/\\(["\\/bfnrt])/g, (_escape, char: string) => JSON.parse(`"\\${char}"`) as string);

/** The name of a claimed spelling in which `text` still holds `key`, or undefined when none does. */
function revealed(text: string, key: string): string | undefined {
  const keyBytes = Buffer.from(key, 'utf8');
  for (const piece of text.split(REDACTION)) {
    const views: Record<string, string> = {
      raw: piece,
      percent: percentDecoded(piece),
      form: percentDecoded(piece.replaceAll('+', ' ')),
      json: jsonDecoded(piece),
      'json twice': jsonDecoded(jsonDecoded(piece)),
      'json, then percent': percentDecoded(jsonDecoded(piece)),
    };
    for (const [name, view] of Object.entries(views)) {
      if (view.includes(key)) return name;
      for (const run of view.match(/[0-9a-f]{8,}/gi) ?? []) {
        for (const start of [0, 1]) if (Buffer.from(run.slice(start), 'hex').includes(keyBytes)) return `hex (${name})`;
      }
      for (const run of view.match(/[A-Za-z0-9+/_-]{6,}={0,2}/g) ?? []) {
        const standard = run.replaceAll('-', '+').replaceAll('_', '/');
        for (let start = 0; start < 4; start++) {
          if (Buffer.from(standard.slice(start), 'base64').includes(keyBytes)) return `base64 at offset ${start} (${name})`;
        }
      }
    }
  }
  return undefined;
}

/** Every string and number in a JSON value, keys included. */
function leaves(value: unknown, out: Array<string | number> = []): Array<string | number> {
  if (typeof value === 'string' || typeof value === 'number') out.push(value);
  else if (Array.isArray(value)) for (const item of value) leaves(item, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      leaves(item, out);
    }
  }
  return out;
}

function expectNothingReveals(where: string, texts: Array<string | number>, key: string): void {
  for (const leaf of texts) {
    if (typeof leaf === 'number') {
      if (String(leaf).includes(key) || (/^\d+$/.test(key) && leaf === Number(key)))
        throw new Error(`${where}: the key arrived as a number`);
      continue;
    }
    const spelling = revealed(leaf, key);
    if (spelling) throw new Error(`${where}: the key can be read back from a string (${spelling})`);
  }
}

function captureWire(transport: Transport): JSONRPCMessage[] {
  const wire: JSONRPCMessage[] = [];
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    wire.push(message);
    deliver?.(message, extra);
  };
  return wire;
}

beforeAll(async () => {
  requireKeyringSession();
  const entry = (secret: Record<string, unknown>) => ({
    command: process.execPath,
    args: [fixture],
    env: { SPELL_KEY: '${secret:KEY}' },
    secrets: { KEY: secret },
    confirm: false,
  });
  config = await writeConfig({
    ...Object.fromEntries(
      Object.entries(KEYS).map(([name, { value, stored }]) => [
        serverOf(name),
        entry(stored ? {} : { field_type: 'text', default: value }),
      ]),
    ),
    [tooShort]: entry({ field_type: 'text', default: 'k9' }),
  });
  for (const [name, { value, stored }] of Object.entries(KEYS)) {
    if (!stored) continue;
    const set = await runBin(['secrets', 'set', serverOf(name), 'KEY', '--config', config], { input: value });
    expect(set.code).toBe(0);
  }
});

afterAll(async () => {
  for (const name of Object.keys(KEYS)) await runBin(['secrets', 'clear', serverOf(name), '--yes']);
});

describe('leak suite: every claimed spelling, every length class', () => {
  it('secrets set refuses a value shorter than 8 characters', async () => {
    const set = await runBin(['secrets', 'set', serverOf('short'), 'KEY', '--config', config], { input: KEYS.short.value });
    expect(set.code).toBe(2);
    expect(set.stderr).toContain('shorter than 8 characters');
    expect(set.stderr).not.toContain(KEYS.short.value);
  });

  it('a value under 4 characters is not injected: the proxy says how to fix it and exits 2', async () => {
    const run = await runBin(['run', tooShort, '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('shorter than 4 characters');
    expect(run.stderr).toContain(`mcp-keyproxy secrets set ${tooShort} KEY`);
    expect(run.stdout).toBe('');
  });

  it.each(Object.keys(KEYS) as KeyName[])('%s key: nothing the client receives decodes back to it', async (name) => {
    const key = KEYS[name].value;
    const sampled: unknown[] = [];
    const proxy = await connectThroughProxy({
      config,
      server: serverOf(name),
      capabilities: { sampling: {} },
      extraArgs: ['--log-level', 'trace'],
      beforeConnect: (client) =>
        client.setRequestHandler(CreateMessageRequestSchema, (request) => {
          sampled.push(request.params);
          return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'ok' } };
        }),
    });
    const wire = captureWire(proxy.transport);
    const { client } = proxy;
    try {
      await client.setLoggingLevel('debug');
      const spelled = await client.callTool({ name: 'spell', arguments: {} }, undefined, { onprogress: () => undefined });
      expect(JSON.stringify(spelled)).toContain(`[REDACTED:${serverOf(name)}/KEY]`);
      expect((await client.callTool({ name: 'spell-error', arguments: {} })).isError).toBe(true);
      expect(JSON.stringify(await client.callTool({ name: 'spell-sample', arguments: {} }))).toContain('sampled: test-model');
      // The redacted blob is no longer valid base64, which the SDK client refuses: fail-closed. Check the wire.
      await client.readResource({ uri: 'secret://env' }).catch(() => undefined);
      expect(JSON.stringify(wire)).toMatch(/"blob":"[^"]*\[REDACTED:/);
      await expect(client.readResource({ uri: 'secret://fail' })).rejects.toThrow(/cannot read with/);

      // Every channel carried something, so finding no key below means something.
      const kinds = new Set(wire.map((message) => ('method' in message ? message.method : 'id' in message ? 'response' : '?')));
      expect([...kinds]).toEqual(
        expect.arrayContaining(['notifications/progress', 'notifications/message', 'sampling/createMessage', 'response']),
      );
      expect(wire.some((message) => 'error' in message)).toBe(true);
      expect(sampled).toHaveLength(1);
      expectNothingReveals('messages to the client', leaves(wire), key);
    } finally {
      await client.close();
    }
    expect(proxy.stderr()).toContain('server stderr');
    expectNothingReveals("the proxy's stderr", proxy.stderr().split('\n'), key);
  });
});
