#!/usr/bin/env node
// The main job, end to end: store a key, point an MCP client at `mcp-keyproxy run everything`, and show that the
// server received the key in its environment while the client only ever saw it redacted.
// Run with `npm run demo` (it brings its own private keychain, so it works on a fresh headless machine too).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/mcp-keyproxy.js');
const config = join(root, 'proxy.config.example.json');
const token = `demo-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

execFileSync(process.execPath, [bin, 'secrets', 'set', 'everything', 'API_TOKEN', '--config', config], {
  input: token,
  stdio: ['pipe', 'inherit', 'inherit'],
});
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [bin, 'run', 'everything', '--config', config, '--headless'],
  env: { ...process.env },
  stderr: 'ignore',
  cwd: root,
});
const client = new Client({ name: 'demo-client', version: '1.0.0' });
await client.connect(transport);
const tools = (await client.listTools()).tools;
const result = await client.callTool({ name: 'get-env', arguments: {} });
const text = result.content.map((part) => part.text ?? '').join('');
const line = text.split('\n').find((entry) => entry.includes('API_TOKEN')) ?? '(API_TOKEN not found)';
console.log(`connected through mcp-keyproxy: ${tools.length} tools`);
console.log(`the server's environment as the client sees it: ${line.trim()}`);
console.log(`the real key reached the client: ${text.includes(token) ? 'YES (bug!)' : 'no'}`);
await client.close();
execFileSync(process.execPath, [bin, 'secrets', 'delete', 'everything', 'API_TOKEN'], { stdio: 'inherit' });
process.exitCode = text.includes(token) || !line.includes('REDACTED') ? 1 : 0;
