#!/usr/bin/env node
// The cheapest stdio proxy that reads what it carries: like bench/pipe-hop.mjs, but each newline-delimited message
// is parsed (JSON.parse) before its bytes are passed on unchanged. Nothing is checked, routed or scrubbed. The
// benchmark measures it as the floor of any hop that must look at every message, as mcp-keyproxy must.
import { spawn } from 'node:child_process';

const child = spawn(process.execPath, process.argv.slice(2), { stdio: ['pipe', 'pipe', 'inherit'] });

function relay(input, output) {
  let pending = [];
  input.on('data', (chunk) => {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      const line = pending.length === 0 ? chunk.subarray(start, end + 1) : Buffer.concat([...pending, chunk.subarray(start, end + 1)]);
      pending = [];
      start = end + 1;
      JSON.parse(line.toString('utf8', 0, line.length - 1));
      output.write(line);
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  });
}

relay(process.stdin, child.stdin);
relay(child.stdout, process.stdout);
child.on('exit', (code) => process.exit(code ?? 1));
