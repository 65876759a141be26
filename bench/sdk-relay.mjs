#!/usr/bin/env node
// The cheapest possible stdio → Streamable HTTP proxy built on the SDK's transports: every message from stdin is
// sent to the server and every message from the server is written to stdout, with nothing checked or rewritten.
// bench/remote.mjs measures it as the floor of what a stdio hop in front of the SDK's HTTP transport costs here.
// Usage: AUTH_TOKEN=… node bench/sdk-relay.mjs <url>
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const front = new StdioServerTransport();
const back = new StreamableHTTPClientTransport(new URL(process.argv[2]), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.AUTH_TOKEN}` } },
});
front.onmessage = (message) => void back.send(message).catch((error) => console.error(error));
back.onmessage = (message) => void front.send(message);
process.stdin.once('end', () => void back.close().finally(() => process.exit(0)));
await back.start();
await front.start();
