#!/usr/bin/env node
// The cheapest possible stdio proxy: a Node process that pipes bytes to a child and back, parsing nothing.
// The benchmark measures it as the floor of what any extra process hop costs on this machine.
import { spawn } from 'node:child_process';

const child = spawn(process.execPath, process.argv.slice(2), { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.on('exit', (code) => process.exit(code ?? 1));
