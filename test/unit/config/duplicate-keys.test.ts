import { describe, expect, it } from 'vitest';
import { jsonKeyProblems } from '../../../src/config/json-position.js';
import { parseConfig } from '../../../src/config/parse.js';
import { expectKeyproxyError } from './helpers.js';

describe('jsonKeyProblems', () => {
  it('finds a key written twice in one object, with both places, and only there', () => {
    const text = '{"x": {"k": 1}, "x": {"k": 2}, "y": [{"k": 1}, {"k": 2}]}';
    expect(jsonKeyProblems(text)).toEqual([{ kind: 'duplicate', path: ['x'], offset: 16, firstOffset: 1 }]);
  });

  it('finds "__proto__" written as such or escaped, at any depth', () => {
    const text = '{"a": [{"__proto__": 1}], "\\u005f_proto__": 2}';
    expect(jsonKeyProblems(text).map(({ kind, path }) => ({ kind, path }))).toEqual([
      { kind: 'proto', path: ['a', 0, '__proto__'] },
      { kind: 'proto', path: ['__proto__'] },
    ]);
  });

  it('finds nothing in JSON without such keys', () => {
    expect(jsonKeyProblems('{"servers": {"a": {"env": {"A": "1", "B": "1"}}, "b": {}}}')).toEqual([]);
  });
});

describe('parseConfig: entries JSON.parse would drop silently', () => {
  it('refuses a server defined twice, naming it, both lines and the fix', async () => {
    const text = '{\n  "servers": {\n    "github": { "command": "a" },\n    "github": { "command": "b" }\n  }\n}';
    const error = await expectKeyproxyError(() => parseConfig(text, 'c.json'), 'CONFIG_INVALID');
    expect(error.exitCode).toBe(78);
    expect(error.message).toMatch(
      /c\.json: servers\.github: server "github" is defined twice \(lines 3 and 4\).*Remove one, or give it another name/,
    );
  });

  it('refuses a duplicate under mcpServers too', async () => {
    const text = '{"mcpServers": {"a": {"command": "x"}, "a": {"url": "https://e.example/mcp"}}}';
    const error = await expectKeyproxyError(() => parseConfig(text, 'c.json'), 'CONFIG_INVALID');
    expect(error.message).toContain('c.json: mcpServers.a: server "a" is defined twice (line 1)');
  });

  it('refuses a server named "__proto__" instead of dropping it (also when it is the only one)', async () => {
    for (const key of ['servers', 'mcpServers']) {
      const text = `{"${key}": {"__proto__": {"command": "x"}}}`;
      const error = await expectKeyproxyError(() => parseConfig(text, 'c.json'), 'CONFIG_INVALID');
      expect(error.message).toMatch(
        new RegExp(`c\\.json: ${key}\\.__proto__: "__proto__" cannot be a server name.*Rename the server: use letters`),
      );
    }
  });

  it('refuses a duplicate key deeper in the file (an env variable written twice), without quoting values', async () => {
    const text = '{"servers": {"a": {"command": "x", "env": {"TOKEN": "${secret:T}", "TOKEN": "literal-sk-123"}, "secrets": {"T": {}}}}}';
    const error = await expectKeyproxyError(() => parseConfig(text, 'c.json'), 'CONFIG_INVALID');
    expect(error.message).toContain('c.json: servers.a.env.TOKEN: "TOKEN" appears twice in the same object (line 1)');
    expect(error.message).not.toContain('literal-sk-123');
  });

  it('still accepts server names that are Object.prototype properties', () => {
    const config = parseConfig('{"servers": {"constructor": {"command": "x"}, "toString": {"command": "y"}}}', 'c.json');
    expect(Object.keys(config.servers)).toEqual(['constructor', 'toString']);
  });
});
