#!/usr/bin/env node
// The first moment of our own code, for MCP_KEYPROXY_TRACE_STARTUP (src/timing/startup-trace.ts).
const binStart = performance.now();

// The rolldown bundle of dist/ (scripts/bundle.mjs): the start path is one chunk, far fewer files than the tsc output.
const { main } = await import('../dist/bundle/index.js');
await main(process.argv, binStart);
