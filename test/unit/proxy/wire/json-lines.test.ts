import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { JsonLineReader, MAX_LINE_BYTES } from '../../../../src/proxy/wire/json-lines.js';
import { encodeLine, hasOriginalLine, keepLineOnlyIfClean, writeLine } from '../../../../src/proxy/wire/original-line.js';

function reader() {
  const messages: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  const lines = new JsonLineReader(
    (message) => void messages.push(message),
    (error) => void errors.push(error),
  );
  return { lines, messages, errors };
}

describe('JsonLineReader', () => {
  it('reads lines split across chunks, several lines in one chunk, and CRLF endings', () => {
    const { lines, messages, errors } = reader();
    lines.push(Buffer.from('{"jsonrpc":"2.0","id":1,"res'));
    lines.push(Buffer.from('ult":{}}\n{"jsonrpc":"2.0","method":"a"}\r\n\n{"jsonrpc":"2.0",'));
    expect(messages).toHaveLength(2);
    lines.push(Buffer.from('"id":"x","method":"b","params":{}}\n'));
    expect(messages).toEqual([
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', method: 'a' },
      { jsonrpc: '2.0', id: 'x', method: 'b', params: {} },
    ]);
    expect(errors).toEqual([]);
  });

  it('keeps the exact bytes of each line, newline included, for the message read from it', async () => {
    const { lines, messages } = reader();
    const line = '{ "id" : 2, "jsonrpc":"2.0",  "result": {"é": "ü"} }\n';
    lines.push(Buffer.from(line.slice(0, 10)));
    lines.push(Buffer.from(line.slice(10)));
    const [message] = messages;
    expect(hasOriginalLine(message!)).toBe(true);
    // Kept as the two pieces it came in, and written as them.
    expect(encodeLine(message!)).toEqual([Buffer.from(line.slice(0, 10)), Buffer.from(line.slice(10))]);
    const output = new PassThrough();
    let written = false;
    writeLine(output, message!, () => (written = true));
    expect(String(output.read())).toBe(line);
    keepLineOnlyIfClean(message!, [{ active: true, finds: () => true }]);
    expect(encodeLine(message!)).toBe(`${JSON.stringify(message)}\n`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toBe(true);
  });

  it('serialises a message that was not read from a line', () => {
    const message: JSONRPCMessage = { jsonrpc: '2.0', id: 3, result: { ok: true } };
    expect(encodeLine(message)).toBe('{"jsonrpc":"2.0","id":3,"result":{"ok":true}}\n');
    const { lines, messages } = reader();
    lines.push(Buffer.from('{"jsonrpc":"2.0","id":3,"result":{"ok":true}}\n'));
    expect(encodeLine({ ...messages[0]!, id: 4 })).toBe('{"jsonrpc":"2.0","id":4,"result":{"ok":true}}\n');
  });

  it('reports a line that is not JSON-RPC without quoting it, and goes on reading', () => {
    const { lines, messages, errors } = reader();
    lines.push(Buffer.from('debug: key sk-live-abcdef123456 loaded\n{"jsonrpc":"1.0","id":1,"result":{}}\n[1,2]\n'));
    lines.push(Buffer.from('{"jsonrpc":"2.0","method":"ok"}\n'));
    expect(messages).toEqual([{ jsonrpc: '2.0', method: 'ok' }]);
    expect(errors.map((error) => error.message)).toEqual([
      'skipped a line that is not JSON-RPC: the line is not valid JSON',
      'skipped a line that is not JSON-RPC: the "jsonrpc" member is not "2.0"',
      'skipped a line that is not JSON-RPC: a batch (a JSON array): MCP has no batches since 2025-06-18, send one message per line',
    ]);
    expect(errors.join(' ')).not.toContain('sk-live');
  });

  it('drops an over-long line and reads the next one', () => {
    const { lines, messages, errors } = reader();
    const chunk = Buffer.alloc(16 * 1024 * 1024, 'a'.charCodeAt(0));
    for (let sent = 0; sent <= MAX_LINE_BYTES; sent += chunk.length) lines.push(chunk);
    expect(errors.map((error) => error.message)).toEqual(['a message longer than 64 MB was dropped']);
    lines.push(Buffer.from('aaaa\n{"jsonrpc":"2.0","method":"after"}\n'));
    expect(messages).toEqual([{ jsonrpc: '2.0', method: 'after' }]);
    expect(errors).toHaveLength(1);
  });
});
