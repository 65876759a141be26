import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { binPath, everythingServer, inheritedEnv, writeConfig } from '../helpers/proxy.js';

/**
 * A bounded fuzz of client frames: random mutations of valid MCP messages, written to the built proxy's stdin as a
 * raw child process (an SDK client would refuse to send them), in the three modes. Every line the proxy writes must
 * be JSON-RPC 2.0; every frame that is not a message must get exactly the specified error (id null); requests whose
 * only oddity is a numeric id must be answered with that id; probes between the bad frames must be answered; the
 * proxy must not crash. Reproduce a failure with FRAME_FUZZ_SEED=<seed printed>.
 */

const SEED = Number(process.env.FRAME_FUZZ_SEED ?? randomInt(2 ** 31));
const FRAMES_PER_MODE = 7_000;
/** Frames between two probes; a batch and its probe are written at once, then the probe's answer is awaited. */
const BATCH = 500;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Rng = () => number;

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

/** Valid MCP messages a client sends (no initialize, no tool that would open a dialog). */
function template(rng: Rng, n: number): { [key: string]: Json } {
  return pick(rng, [
    () => ({ jsonrpc: '2.0', id: n, method: 'ping' }),
    () => ({ jsonrpc: '2.0', id: n, method: 'tools/list', params: {} }),
    () => ({ jsonrpc: '2.0', id: `r-${n}`, method: 'resources/list' }),
    () => ({ jsonrpc: '2.0', id: n, method: 'prompts/list', params: { _meta: { progressToken: `p-${n}` } } }),
    () => ({ jsonrpc: '2.0', id: n, method: 'tools/call', params: { name: 'echo', arguments: { message: `m${n}` } } }),
    () => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: `gone-${n}`, reason: 'x' } }),
    () => ({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }),
    () => ({ jsonrpc: '2.0', id: `srv-${n}`, result: {} }),
    () => ({ jsonrpc: '2.0', id: n, error: { code: -32601, message: 'no' } }),
  ])();
}

/** Replaces one member with a wrong or unusual value, or removes it. */
function mutateShape(rng: Rng, message: { [key: string]: Json }, n: number): Json {
  const key = pick(rng, ['id', 'id', 'method', 'jsonrpc', 'params', 'result', 'error', 'whole']);
  if (key === 'whole') return pick(rng, [[message], [message, message], [], 42, 'ping', null, true] as Json[]);
  const values: Json[] = {
    id: [null, {}, { n }, [], [n], true, false, n + 0.5, Number(`${n + 1}e290`), -n - 0.25, `s-${n}`],
    method: [5, null, {}, [], true, ''],
    jsonrpc: ['1.0', 2, null, '2.0 '],
    params: [[1], 'x', 5, null, true],
    result: ['text', 5, [], null],
    error: ['boom', { message: 'no code' }, { code: 'x', message: 'm' }, null],
  }[key]!;
  const copy = { ...message };
  if (rng() < 0.15) delete copy[key];
  else copy[key] = pick(rng, values);
  return copy;
}

/** Byte-level damage: truncation, deletion, insertion, replacement, duplication (never a newline). */
function mutateText(rng: Rng, text: string): string {
  const at = Math.floor(rng() * (text.length + 1));
  const char = pick(rng, [...'{}[]",:0-.e\\ tnu\t', '\u{feff}', '\u0000', 'é']);
  return pick(rng, [
    () => text.slice(0, at),
    () => text.slice(0, at) + text.slice(at + 1),
    () => text.slice(0, at) + char + text.slice(at),
    () => text.slice(0, at) + char + text.slice(at + 1),
    () => text.slice(0, at) + text.slice(Math.floor(rng() * text.length)),
  ])();
}

/** What the specification says the proxy does with a frame (written from the spec, not from the proxy's code). */
type Expected = { kind: 'none' } | { kind: 'error'; code: -32700 | -32600 } | { kind: 'request'; id: string | number };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown) => typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

/** True when `value` is one of the four JSON-RPC 2.0 messages MCP allows (an error may answer nothing: id null). */
function isMessage(value: unknown): boolean {
  if (!isObject(value) || value.jsonrpc !== '2.0') return false;
  // JSON-RPC 2.0: a response has a result or an error, never both; no message is both a request and a response.
  const response = 'result' in value || 'error' in value;
  if ((response && ('method' in value || 'params' in value)) || ('result' in value && 'error' in value)) return false;
  const paramsOk = value.params === undefined || isObject(value.params);
  const request = typeof value.method === 'string' && isId(value.id) && paramsOk;
  const notification = typeof value.method === 'string' && !('id' in value) && paramsOk;
  const result = isId(value.id) && isObject(value.result);
  const error =
    (value.id === undefined || value.id === null || isId(value.id)) &&
    isObject(value.error) &&
    typeof value.error.code === 'number' &&
    typeof value.error.message === 'string';
  return request || notification || result || error;
}

/** How deeply `value` nests objects and arrays (iteratively: the frames here may be 100,000 deep). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

function expected(text: string): Expected {
  if (text.trim() === '') return { kind: 'none' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'error', code: -32700 };
  }
  // The proxy refuses a message nested deeper than 1,000 levels, which would overflow its stack.
  if (!isMessage(value) || depthOf(value) > 1000) return { kind: 'error', code: -32600 };
  const message = value as Record<string, unknown>;
  return typeof message.method === 'string' && 'id' in message ? { kind: 'request', id: message.id as string | number } : { kind: 'none' };
}

/** One frame: its text, and whether it must be answered (a valid request, unchanged or with only its id made numeric). */
function frame(rng: Rng, n: number): { text: string; mustAnswer: boolean } {
  const base = template(rng, n);
  const roll = rng();
  if (roll < 0.1) return { text: JSON.stringify(base), mustAnswer: 'method' in base && 'id' in base };
  if (roll < 0.2 && 'method' in base && 'id' in base) {
    const id = pick(rng, [n + 0.5, Number(`${n + 1}e290`), -n - 0.25]);
    return { text: JSON.stringify({ ...base, id }), mustAnswer: true };
  }
  let shaped: Json = rng() < 0.6 ? mutateShape(rng, base, n) : base;
  if (rng() < 0.2 && isObject(shaped)) shaped = mutateShape(rng, shaped as { [key: string]: Json }, n);
  let text = JSON.stringify(shaped);
  if (shaped === base || rng() < 0.4) text = mutateText(rng, text);
  if (rng() < 0.2) text = mutateText(rng, text);
  return { text, mustAnswer: false };
}

interface Proxy {
  child: ChildProcessWithoutNullStreams;
  replies: Array<Record<string, unknown>>;
  badLines: string[];
  stderrTail: () => string;
  /** Resolves true as soon as `check` holds after a reply arrives, false after `ms`. */
  until: (check: () => boolean, ms: number) => Promise<boolean>;
}

function startProxy(args: string[]): Proxy {
  const child = spawn(process.execPath, [binPath, 'run', ...args], { env: inheritedEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const waiters = new Set<() => void>();
  const until = (check: () => boolean, ms: number) =>
    new Promise<boolean>((resolve) => {
      if (check()) return resolve(true);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        resolve(check());
      }, ms);
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(true);
      };
      waiters.add(waiter);
    });
  const proxy: Proxy = { child, replies: [], badLines: [], stderrTail: () => stderr.slice(-4000), until };
  let stderr = '';
  // Drained (and only the end kept): a full stderr pipe would block the proxy's logger.
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      try {
        const reply = JSON.parse(line) as unknown;
        if (isMessage(reply)) proxy.replies.push(reply as Record<string, unknown>);
        else proxy.badLines.push(line.slice(0, 300));
      } catch {
        proxy.badLines.push(line.slice(0, 300));
      }
    }
    for (const waiter of [...waiters]) waiter();
  });
  child.stdin.on('error', () => undefined);
  return proxy;
}

let running: Proxy | undefined;
afterEach(() => {
  running?.child.kill('SIGKILL');
  running = undefined;
});

/** Fuzzes one proxy started as `mcp-keyproxy run <args>`. */
async function fuzz(mode: string, args: string[], seed: number): Promise<void> {
  const proxy = (running = startProxy(args));
  onTestFailed(() => {
    console.error(`frame-fuzz ${mode}: FRAME_FUZZ_SEED=${seed}\n--- proxy stderr (end) ---\n${proxy.stderrTail()}`);
  });
  const rng = prng(seed);
  const answeredIds = new Set<unknown>();
  let seen = 0;
  const answered = (id: unknown) => {
    for (; seen < proxy.replies.length; seen++) answeredIds.add(proxy.replies[seen]!.id);
    return answeredIds.has(id);
  };
  const write = (lines: string[]) => proxy.child.stdin.write(lines.map((line) => `${line}\n`).join(''));
  write([
    JSON.stringify({
      jsonrpc: '2.0',
      id: 'init',
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'frame-fuzz', version: '1' } },
    }),
  ]);
  expect(await proxy.until(() => answered('init'), 15_000), 'initialize answered').toBe(true);
  write(['{"jsonrpc":"2.0","method":"notifications/initialized"}']);

  const errors = { [-32700]: 0, [-32600]: 0 };
  const requestIds = new Map<unknown, number>();
  const mustAnswer: unknown[] = [1e300];
  const probes: string[] = [];
  // The issue's own examples first, a frame nested 100,000 deep among them (it used to overflow the stack).
  const deep = `{"jsonrpc":"2.0","method":"x","params":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
  const fixed = ['{"jsonrpc":"2.0","id":1e300,"method":"ping"}', '{bad', '[]', '{"jsonrpc":"2.0","id":null,"method":"ping"}', deep];
  const frames = fixed.map((text) => ({ text, mustAnswer: false }));
  for (let n = 1000; frames.length < FRAMES_PER_MODE; n++) frames.push(frame(rng, n));
  for (let start = 0; start < frames.length; start += BATCH) {
    const lines: string[] = [];
    for (const { text, mustAnswer: must } of frames.slice(start, start + BATCH)) {
      const outcome = expected(text);
      if (outcome.kind === 'error') errors[outcome.code]++;
      if (outcome.kind === 'request') requestIds.set(outcome.id, (requestIds.get(outcome.id) ?? 0) + 1);
      if (must) mustAnswer.push(JSON.parse(text).id);
      lines.push(text);
    }
    const probe = `probe-${start}`;
    probes.push(probe);
    lines.push(JSON.stringify({ jsonrpc: '2.0', id: probe, method: pick(rng, ['ping', 'tools/list']) }));
    write(lines);
    expect(await proxy.until(() => answered(probe), 10_000), `probe ${probe} answered (seed ${seed})`).toBe(true);
  }
  const unanswered = () => mustAnswer.filter((id) => !answered(id));
  await proxy.until(() => unanswered().length === 0, 10_000);
  expect(unanswered(), `valid requests left unanswered (seed ${seed})`).toEqual([]);

  expect(proxy.child.exitCode, 'the proxy is still running').toBe(null);
  expect(proxy.badLines, `lines that are not JSON-RPC (seed ${seed})`).toEqual([]);
  const nullIdErrors = proxy.replies.filter((reply) => reply.id === null);
  const counted = (code: number) => nullIdErrors.filter((reply) => (reply.error as { code: number }).code === code).length;
  expect({ parse: counted(-32700), invalid: counted(-32600), other: nullIdErrors.length - counted(-32700) - counted(-32600) }).toEqual({
    parse: errors[-32700],
    invalid: errors[-32600],
    other: 0,
  });
  for (const reply of nullIdErrors) {
    const { code, message } = reply.error as { code: number; message: string };
    expect(message.startsWith(code === -32700 ? 'Parse error: ' : 'Invalid Request: '), message).toBe(true);
  }
  // Every other reply answers something the client sent, at most as often as it was sent.
  const answers = new Map<unknown, number>();
  for (const reply of proxy.replies) if ('id' in reply && !('method' in reply)) answers.set(reply.id, (answers.get(reply.id) ?? 0) + 1);
  answers.delete(null);
  for (const [id, count] of answers) {
    const sent = id === 'init' || probes.includes(id as string) ? 1 : (requestIds.get(id) ?? 0);
    expect(count, `replies to id ${JSON.stringify(id)} (seed ${seed})`).toBeLessThanOrEqual(sent);
  }
  console.info(
    `frame-fuzz ${mode}: ${frames.length} frames + ${probes.length} probes, ${errors[-32700]} parse errors, ` +
      `${errors[-32600]} invalid requests, ${requestIds.size} request ids, ${answers.size} answered, seed ${seed}`,
  );
}

describe('frame fuzz: every client frame gets its JSON-RPC answer and the proxy keeps serving', () => {
  const name = `fuzz-${randomBytes(3).toString('hex')}`;

  it('single server (transparent)', async () => {
    const config = await writeConfig({ [name]: everythingServer({}) });
    await fuzz('single', [name, '--config', config], SEED);
  });

  it('gated (the secret is missing)', async () => {
    requireKeyringSession();
    const config = await writeConfig({
      [name]: everythingServer({ API_TOKEN: '${secret:API_TOKEN}' }, { API_TOKEN: { label: 'API token' } }),
    });
    await fuzz('gated', [name, '--config', config], SEED + 1);
  });

  it('aggregate (run without a server name)', async () => {
    const config = await writeConfig({ [name]: everythingServer({}) });
    await fuzz('aggregate', ['--config', config], SEED + 2);
  });
});
