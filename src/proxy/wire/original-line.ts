import type { Writable } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { InvalidFrameError, JsonRpcErrorCode } from './json-rpc.js';

/**
 * The one rule for forwarding a message as the bytes it arrived in. Reusing the line saves the serialise step,
 * which for a large result is most of the cost of the extra hop; it is safe only when the line says no more than
 * the parsed message the proxy checked. Everything about that decision lives here.
 */

/** The line a message was read from: its text (for checks) and its bytes, newline included. */
interface OriginalLine {
  text: string;
  bytes: LineBytes;
}

/** The bytes of a line: one buffer, or the pieces a long line came in (never joined: see `writeLine`). */
export type LineBytes = Buffer | readonly Buffer[];

/** Holds a message's line until a check refuses it: the message is frozen, the slot is not. */
interface LineSlot {
  line: OriginalLine | undefined;
}

/** Something a line must not carry; `active` is false while there is nothing to look for (e.g. no secret yet). */
export interface LineCheck {
  readonly active: boolean;
  /** True when the text holds something the check is looking for. */
  finds(text: string): boolean;
}

/**
 * Where a message keeps its line: a property of its own that is not enumerable, so that no copy (`{ ...message }`,
 * `Object.assign`), serialisation or walk takes it along. A copy is a new message, which has no line. (A WeakMap did
 * the same, with one entry per message to set, look up and collect: about 4% of the proxy's CPU on small messages.)
 */
const LINE = Symbol('original line');

function slotOf(message: JSONRPCMessage): LineSlot | undefined {
  return (message as { [LINE]?: LineSlot })[LINE];
}

/**
 * How deeply a message may nest objects and arrays. Scrubbing and serialising recurse once per level: a frame of
 * `[[[[…` a hundred thousand deep would overflow the stack and end the proxy. No MCP message comes near this.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Ties `message` to the line it was parsed from, and freezes it (deeply): an edit in place would then throw
 * instead of going out as the old bytes, so every rewrite has to make a new object, which has no line. The freeze
 * visits every value anyway, so it also refuses (with an `InvalidFrameError`) a message nested deeper than
 * `MAX_JSON_DEPTH`.
 */
export function rememberLine(message: JSONRPCMessage, text: string, bytes: LineBytes): void {
  // Before the freeze: a frozen object takes no new property.
  Object.defineProperty(message, LINE, { value: { line: { text, bytes } } satisfies LineSlot });
  deepFreeze(message, 1);
}

/** One line of newline-delimited JSON-RPC: the original line when it may be reused, else the message serialised. */
export function encodeLine(message: JSONRPCMessage): LineBytes | string {
  return slotOf(message)?.line?.bytes ?? `${JSON.stringify(message)}\n`;
}

/**
 * Writes `message` to `stream` as one line (see `encodeLine`); `done` is called once it is written. A line that
 * came in pieces goes out as those pieces, corked into one write: joining them would copy a large message once
 * more. Returns what the stream's last `write` returned (false: wait for 'drain').
 */
export function writeLine(stream: Writable, message: JSONRPCMessage, done?: (error?: Error | null) => void): boolean {
  const line = encodeLine(message);
  if (typeof line === 'string' || Buffer.isBuffer(line)) return stream.write(line, done);
  stream.cork();
  let room = true;
  for (const [index, piece] of line.entries()) room = stream.write(piece, index === line.length - 1 ? done : undefined);
  stream.uncork();
  return room;
}

/**
 * Decides, before `message` is sent on, whether its original line may go out, and says so. It may when no check is
 * active; otherwise only when the line spells its strings as JSON.stringify does (a `\u` or `\/` escape could spell
 * a value so that no text check sees it) and no check finds anything in it (the line may hold what the parse
 * dropped, such as a duplicate key). Else the line is forgotten and the message will be serialised from what was
 * checked. A line found clean is one pass over the bytes, and its message, parsed from it, holds nothing the
 * checks look for either: the router then sends it without walking it.
 */
export function keepLineOnlyIfClean(message: JSONRPCMessage, checks: readonly (LineCheck | undefined)[]): boolean {
  const slot = slotOf(message);
  const line = slot?.line;
  if (!slot || !line) return false;
  if (!checks.some((check) => check?.active)) return true;
  const { text } = line;
  if (text.includes('\\u') || text.includes('\\/') || checks.some((check) => check?.active && check.finds(text))) {
    slot.line = undefined;
    return false;
  }
  return true;
}

/** True when `message` will go out as its original line (for tests and benchmarks). */
export function hasOriginalLine(message: JSONRPCMessage): boolean {
  return slotOf(message)?.line !== undefined;
}

function deepFreeze(value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_JSON_DEPTH) {
    throw new InvalidFrameError(JsonRpcErrorCode.InvalidRequest, `it nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`);
  }
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item, depth + 1);
  } else {
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key], depth + 1);
  }
}
