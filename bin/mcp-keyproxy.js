#!/usr/bin/env node
// CommonJS (bin/package.json), as are the bundle's chunks: see scripts/bundle.mjs.
// The first moment of our own code, for MCP_KEYPROXY_TRACE_STARTUP (src/timing/startup-trace.ts). Taken only when
// asked: the first read of `performance` loads perf_hooks, which a start otherwise does without.
const binStart = process.env.MCP_KEYPROXY_TRACE_STARTUP === '1' ? performance.now() : undefined;

// The rolldown bundle of dist/ (scripts/bundle.mjs). A small chunk first (src/early.ts): it protects the process,
// turns on the compiled-code cache for the chunks after it, and begins a client start's keychain read, which then
// runs while the start chunk of the CLI is evaluated.
require('../dist/bundle/early.cjs').beforeMain(process.argv, process.env);
require('../dist/bundle/index.cjs').main(process.argv, binStart);
