import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { JsonLineReader } from '../../../../src/proxy/wire/json-lines.js';
import { encodeLine, keepLineOnlyIfClean, type LineCheck } from '../../../../src/proxy/wire/original-line.js';

/** The message parsed from `line`, as the proxy's transports read it. */
function read(line: string): JSONRPCMessage {
  const messages: JSONRPCMessage[] = [];
  new JsonLineReader(
    (message) => void messages.push(message),
    (error) => {
      throw error;
    },
  ).push(Buffer.from(`${line}\n`));
  return messages[0]!;
}

const finds = (needle: string): LineCheck => ({ active: true, finds: (text) => text.includes(needle) });
const line = '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}';

describe('original line', () => {
  it('is reused while no check is active, whatever the line holds', () => {
    const message = read(line.replace('hello', 'hel\\u006co'));
    expect(keepLineOnlyIfClean(message, [undefined, { active: false, finds: () => true }])).toBe(true);
    expect(encodeLine(message).toString()).toBe(`${line.replace('hello', 'hel\\u006co')}\n`);
  });

  it('is reused when every active check finds nothing', () => {
    const message = read(line.replace('{"jsonrpc"', '{ "jsonrpc"'));
    expect(keepLineOnlyIfClean(message, [finds('secret')])).toBe(true);
    expect(encodeLine(message).toString()).toBe(`${line.replace('{"jsonrpc"', '{ "jsonrpc"')}\n`);
  });

  it('is dropped when a check finds something in it, e.g. under a duplicate key the parse shadowed', () => {
    const message = read('{"jsonrpc":"2.0","id":1,"result":{"a":"secret","a":"clean"}}');
    expect(keepLineOnlyIfClean(message, [undefined, finds('secret')])).toBe(false);
    expect(encodeLine(message)).toBe('{"jsonrpc":"2.0","id":1,"result":{"a":"clean"}}\n');
    // A message without a line (this one, now; or one the proxy wrote) is never reported clean.
    expect(keepLineOnlyIfClean(message, [])).toBe(false);
  });

  it.each([
    ['\\u', 'hel\\u006co'],
    ['\\/', 'hel\\/lo'],
  ])('is dropped when it spells a string with %s, which a text check could not see through', (_escape, spelled) => {
    const message = read(line.replace('hello', spelled));
    expect(keepLineOnlyIfClean(message, [finds('never-there')])).toBe(false);
    expect(encodeLine(message)).toBe(`${JSON.stringify(message)}\n`);
    expect(encodeLine(message)).not.toContain('\\');
  });

  it('is never sent for an edited message: an edit in place throws, and a copy has no line', () => {
    const message = read(line) as { result: { content: Array<{ text: string }> } } & JSONRPCMessage;
    expect(() => {
      message.result.content[0]!.text = 'edited';
    }).toThrow(TypeError);
    expect(() => {
      (message as { id: number }).id = 2;
    }).toThrow(TypeError);
    expect(encodeLine(message).toString()).toBe(`${line}\n`);
    const copy = { ...message, id: 2 };
    expect(encodeLine(copy)).toBe(`${JSON.stringify(copy)}\n`);
  });

  it('serialises a message that was never read from a line', () => {
    expect(encodeLine({ jsonrpc: '2.0', method: 'x' })).toBe('{"jsonrpc":"2.0","method":"x"}\n');
  });
});
