#!/usr/bin/env node
// The first moment of our own code, for MCP_KEYPROXY_TRACE_STARTUP (src/timing/startup-trace.ts).
const binStart = performance.now();

// The rolldown bundle of dist/ (scripts/bundle.mjs). A small chunk first (src/early.ts): it protects the process
// and begins a client start's keychain read, which then runs while the start chunk of the CLI is evaluated.
const { beforeMain } = await import('../dist/bundle/early.js');
beforeMain(process.argv, process.env);
const { main } = await import('../dist/bundle/index.js');
await main(process.argv, binStart);
