import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { blankJsoncSyntax } from '../../../src/config/jsonc.js';
import { expectKeyproxyError } from './helpers.js';

describe('client files read as they are', () => {
  it("reads Claude Desktop's file for its mcpServers, ignoring globalShortcut with one warning", () => {
    const text = JSON.stringify({
      globalShortcut: 'Ctrl+Space',
      mcpServers: { everything: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'] } },
    });
    const config = parseConfig(text, 'claude_desktop_config.json');
    expect(Object.keys(config.servers)).toEqual(['everything']);
    expect(config.warnings).toEqual([
      'claude_desktop_config.json: (top level): ignored "globalShortcut": only the servers of this file are read',
    ]);
  });

  it("reads VS Code's JSONC (comments, trailing commas, inputs, type) and keeps line numbers of later errors", () => {
    const text = [
      '{',
      '  // my servers',
      '  "inputs": [{ "type": "promptString", "id": "key", "password": true }],',
      '  "servers": {',
      '    /* local */ "fs": { "type": "stdio", "command": "node", "args": ["s.js",], "envFile": "${workspaceFolder}/.env" },',
      '    "remote": { "type": "http", "url": "https://mcp.example.com/mcp", "headers": {}, },',
      '  },',
      '}',
    ].join('\n');
    const config = parseConfig(text, 'mcp.json');
    expect(config.servers.fs).toMatchObject({ type: 'stdio', command: 'node', args: ['s.js'] });
    expect(config.servers.remote).toMatchObject({ url: 'https://mcp.example.com/mcp', transport: 'http' });
    expect(config.warnings).toContainEqual(expect.stringMatching(/^mcp\.json: servers\.fs: ignored "envFile": not used by mcp-keyproxy/));
    expect(config.warnings).toContainEqual('mcp.json: (top level): ignored "inputs": only the servers of this file are read');

    const broken = text.replace('"command": "node"', '"command": nope');
    const error = expectKeyproxyError(() => parseConfig(broken, 'mcp.json'), 'CONFIG_INVALID');
    return error.then((e) => expect(e.message).toContain('mcp.json:5:'));
  });

  it('maps type "sse" to the SSE transport, and an explicit transport wins over type', () => {
    const config = parseConfig(
      JSON.stringify({
        mcpServers: {
          a: { type: 'sse', url: 'https://a.example/sse' },
          b: { type: 'http', transport: 'auto', url: 'https://b.example/mcp' },
          c: { type: 'streamable-http', url: 'https://c.example/mcp' },
        },
      }),
      'c.json',
    );
    expect(config.servers.a).toMatchObject({ transport: 'sse' });
    expect(config.servers.b).toMatchObject({ transport: 'auto' });
    expect(config.servers.c).toMatchObject({ transport: 'http' });
  });

  it("reads Windsurf's serverUrl and Gemini's httpUrl as the URL", () => {
    const config = parseConfig(
      JSON.stringify({
        mcpServers: { w: { serverUrl: 'https://w.example/mcp' }, g: { httpUrl: 'https://g.example/mcp', timeout: 5000, trust: false } },
      }),
      'c.json',
    );
    expect(config.servers.w).toMatchObject({ url: 'https://w.example/mcp', transport: 'auto' });
    expect(config.servers.g).toMatchObject({ url: 'https://g.example/mcp', transport: 'http' });
    expect(config.warnings).toEqual([expect.stringMatching(/^c\.json: mcpServers\.g: ignored "timeout", "trust": /)]);
  });

  it('keeps keys a client adds (disabled, autoApprove) as warnings, never errors, and never echoes their values', () => {
    const config = parseConfig(
      JSON.stringify({ mcpServers: { a: { command: 'x', disabled: false, autoApprove: ['t'], alwaysAllow: 'sk-secretish-value-0000' } } }),
      'c.json',
    );
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toContain('"disabled", "autoApprove", "alwaysAllow"');
    expect(config.warnings[0]).not.toContain('sk-secretish');
  });

  it('still refuses a typo of its own keys, and a type that contradicts the entry', async () => {
    const typo = await expectKeyproxyError(
      () => parseConfig(JSON.stringify({ servers: { a: { command: 'x', secret: {} } } }), 'c.json'),
      'CONFIG_INVALID',
    );
    expect(typo.message).toMatch(/servers\.a\.secret: unknown key \(allowed here: type, command/);
    const wrongType = await expectKeyproxyError(
      () => parseConfig(JSON.stringify({ servers: { a: { type: 'http', command: 'x' } } }), 'c.json'),
      'CONFIG_INVALID',
    );
    expect(wrongType.message).toContain('servers.a.type');
  });
});

describe('blankJsoncSyntax', () => {
  it('blanks comments and trailing commas only, keeping offsets and line breaks', () => {
    const text = '{ "a": "// not a comment", /* x\ny */ "b": [1,], // end\n}';
    const blanked = blankJsoncSyntax(text);
    expect(blanked).toHaveLength(text.length);
    expect(blanked.split('\n')).toHaveLength(3);
    expect(JSON.parse(blanked)).toEqual({ a: '// not a comment', b: [1] });
  });
});
