import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { JsonLineReader } from '../../../../src/proxy/wire/json-lines.js';
import { InvalidFrameError, invalidFrameReply } from '../../../../src/proxy/wire/json-rpc.js';
import { MAX_JSON_DEPTH } from '../../../../src/proxy/wire/original-line.js';

/** Reads `line` and returns what the reader made of it: a message, or the invalid frame error it reported. */
function read(line: string): { messages: JSONRPCMessage[]; errors: Error[] } {
  const messages: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  new JsonLineReader(
    (message) => void messages.push(message),
    (error) => void errors.push(error),
  ).push(Buffer.from(`${line}\n`));
  return { messages, errors };
}

/** The one line the client gets for `line`. */
function replyTo(line: string): string {
  const { messages, errors } = read(line);
  expect(messages).toEqual([]);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(InvalidFrameError);
  return JSON.stringify(invalidFrameReply(errors[0] as InvalidFrameError));
}

const invalidRequest = (reason: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: `Invalid Request: ${reason}.` } });
const BATCH = 'a batch (a JSON array): MCP has no batches since 2025-06-18, send one message per line';
const NULL_ID = 'the id is null: an MCP id is a string or a number';
const BAD_ID = 'the id is not a string or a number';
const NO_METHOD = 'a request or notification without a string "method"';

describe('invalid frames', () => {
  it('malformed JSON: -32700 with id null', () => {
    for (const line of ['{not json', '{"jsonrpc":"2.0","id":1,"method":"ping"', '\u{feff}{}', 'nul', '{"a":1}}']) {
      expect(replyTo(line), line).toBe(
        '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the line is not valid JSON."}}',
      );
    }
  });

  it('a batch, however full: -32600 with id null (one answer for the whole array)', () => {
    expect(replyTo('[]')).toBe(invalidRequest(BATCH));
    expect(replyTo('[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]')).toBe(invalidRequest(BATCH));
  });

  it('a null id, on a request or a result: -32600 with id null', () => {
    expect(replyTo('{"jsonrpc":"2.0","id":null,"method":"ping"}')).toBe(invalidRequest(NULL_ID));
    expect(replyTo('{"jsonrpc":"2.0","id":null,"result":{}}')).toBe(invalidRequest(NULL_ID));
  });

  it('an id that is an object, an array, a boolean or beyond what a number holds: -32600 with id null', () => {
    for (const id of ['{}', '{"k":1}', '[1]', 'true', 'false', '1e400', '-1e400']) {
      expect(replyTo(`{"jsonrpc":"2.0","id":${id},"method":"ping"}`), id).toBe(invalidRequest(BAD_ID));
      expect(replyTo(`{"jsonrpc":"2.0","id":${id},"result":{}}`), id).toBe(invalidRequest(BAD_ID));
    }
  });

  it('a request-shaped object without a string method: -32600 with id null', () => {
    for (const line of [
      '{"jsonrpc":"2.0","id":1,"method":5}',
      '{"jsonrpc":"2.0","id":1,"method":null}',
      '{"jsonrpc":"2.0","id":1,"method":{"name":"ping"}}',
      '{"jsonrpc":"2.0","id":1}',
      '{"jsonrpc":"2.0","method":["notifications/initialized"]}',
      '{"jsonrpc":"2.0"}',
    ]) {
      expect(replyTo(line), line).toBe(invalidRequest(NO_METHOD));
    }
  });

  it('any other non-message: -32600 with id null, saying what is wrong', () => {
    const cases: Array<[string, string]> = [
      ['42', 'not a JSON object'],
      ['"ping"', 'not a JSON object'],
      ['null', 'not a JSON object'],
      ['true', 'not a JSON object'],
      ['{"id":1,"method":"ping"}', 'the "jsonrpc" member is not "2.0"'],
      ['{"jsonrpc":2,"id":1,"method":"ping"}', 'the "jsonrpc" member is not "2.0"'],
      ['{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}', 'the "params" member is not an object'],
      ['{"jsonrpc":"2.0","method":"notifications/initialized","params":"x"}', 'the "params" member is not an object'],
      ['{"jsonrpc":"2.0","id":1,"result":"text"}', 'the "result" member is not an object'],
      ['{"jsonrpc":"2.0","result":{}}', 'a response without an id'],
      [
        '{"jsonrpc":"2.0","id":1,"error":{"message":"no code"}}',
        'the "error" member is not an object with a number "code" and a string "message"',
      ],
      ['{"jsonrpc":"2.0","id":1,"error":"boom"}', 'the "error" member is not an object with a number "code" and a string "message"'],
    ];
    for (const [line, reason] of cases) expect(replyTo(line), line).toBe(invalidRequest(reason));
  });

  it('a line that is both a request and a response, or both a result and an error: -32600 with id null', () => {
    const MIXED = 'it mixes the members of a request and of a response';
    for (const line of [
      '{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}',
      '{"jsonrpc":"2.0","id":1,"method":"ping","error":{"code":1,"message":"m"}}',
      '{"jsonrpc":"2.0","method":"notifications/initialized","result":{}}',
      '{"jsonrpc":"2.0","id":1,"result":{},"params":{}}',
      '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}',
    ]) {
      expect(replyTo(line), line).toBe(invalidRequest(MIXED));
    }
    // A member no kind defines is not the proxy's to refuse: a later revision may add one.
    expect(read('{"jsonrpc":"2.0","id":1,"method":"ping","x-extension":true}').errors).toEqual([]);
  });

  it('a message nested deeper than the limit is refused instead of overflowing the stack', () => {
    const deep = (levels: number) => `{"jsonrpc":"2.0","method":"x","params":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
    expect(replyTo(deep(200_000))).toBe(invalidRequest(`it nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`));
    expect(replyTo(`[${deep(10)}]`.replace('[', '['.repeat(5000)) + ']'.repeat(4999))).toBe(invalidRequest(BATCH));
    // The envelope is level 1 and params level 2: deep(n) reaches level n + 1.
    expect(read(deep(MAX_JSON_DEPTH - 1)).errors).toEqual([]);
    expect(read(deep(MAX_JSON_DEPTH)).errors).toHaveLength(1);
  });

  it('never quotes the line it refuses', () => {
    const marker = 'sk-live-0123456789abcdef';
    for (const line of [`{"jsonrpc":"2.0","id":{"k":"${marker}"},"method":"ping"}`, `{"${marker}`, `["${marker}"]`, `"${marker}"`]) {
      const { errors } = read(line);
      expect(`${errors[0]?.message} ${replyTo(line)}`).not.toContain(marker);
    }
  });

  it('numeric ids are ids, whatever their size or fraction; an error with a null id is a message', () => {
    for (const id of ['1.5', '1e300', '-7.25', '0', '9007199254740993', '-0']) {
      const { messages, errors } = read(`{"jsonrpc":"2.0","id":${id},"method":"ping"}`);
      expect(errors, id).toEqual([]);
      expect(messages[0], id).toMatchObject({ id: Number(id), method: 'ping' });
    }
    const parseError = '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}';
    expect(read(parseError)).toEqual({ messages: [JSON.parse(parseError)], errors: [] });
  });

  it('goes on reading after each bad frame, and skips blank lines without an answer', () => {
    const messages: JSONRPCMessage[] = [];
    const errors: Error[] = [];
    const reader = new JsonLineReader(
      (message) => void messages.push(message),
      (error) => void errors.push(error),
    );
    reader.push(Buffer.from('{bad\n\n   \r\n[]\n{"jsonrpc":"2.0","id":1,"method":"ping"}\n{"jsonrpc":"2.0","id":null,"method":"x"}\n'));
    reader.push(Buffer.from('{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n'));
    expect(messages.map((message) => (message as { id: number }).id)).toEqual([1, 2]);
    expect(errors.map((error) => (error as InvalidFrameError).code)).toEqual([-32700, -32600, -32600]);
  });
});
