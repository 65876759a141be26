import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
const [cmd, ...args] = process.argv.slice(2);
const t = new StdioClientTransport({ command: cmd, args, env: process.env, stderr: 'ignore' });
const c = new Client({ name: 'x', version: '1' });
const t0 = performance.now(); await c.connect(t); const st = performance.now() - t0;
for (let i = 0; i < 100; i++) await c.callTool({ name: 'echo', arguments: { message: 'w' } });
const l = [];
for (let i = 0; i < 1000; i++) { const s = performance.now(); await c.callTool({ name: 'echo', arguments: { message: 'hello' + i } }); l.push(performance.now() - s); }
l.sort((a, b) => a - b);
console.log(`start ${st.toFixed(0)} p50 ${l[500].toFixed(3)} p99 ${l[990].toFixed(3)}`);
await c.close();
