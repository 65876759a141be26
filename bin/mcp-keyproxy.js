#!/usr/bin/env node
import module from 'node:module';

// Node ≥ 22.1 keeps compiled code between runs: the proxy starts faster from the second run on.
module.enableCompileCache?.();
const { main } = await import('../dist/index.js');
await main(process.argv);
