#!/usr/bin/env node
// The cheapest stand-in for an aggregate: one Node process that starts N copies of a server at once and relays
// their lines, each tagged with its server's index (`<index>\t<line>`), over its own stdin and stdout. It merges
// nothing and parses nothing. bench/aggregate.mjs measures it as the floor of any one process in front of N servers.
// Usage: fanout-hop.mjs <N> <command> [args...]
import { spawn } from 'node:child_process';

const [count, command, ...args] = process.argv.slice(2);

/** Calls `online` with each complete line of `input` (without its newline). */
function lines(input, online) {
  let pending = '';
  input.setEncoding('utf8');
  input.on('data', (text) => {
    const parts = (pending + text).split('\n');
    pending = parts.pop();
    for (const line of parts) online(line);
  });
}

const children = Array.from({ length: Number(count) }, (_, index) => {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  lines(child.stdout, (line) => process.stdout.write(`${index}\t${line}\n`));
  return child;
});

lines(process.stdin, (line) => {
  const tab = line.indexOf('\t');
  children[Number(line.slice(0, tab))].stdin.write(`${line.slice(tab + 1)}\n`);
});
process.stdin.on('end', () => {
  for (const child of children) child.kill();
});
