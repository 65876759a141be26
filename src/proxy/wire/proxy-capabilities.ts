import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';

/**
 * What the proxy declares when it answers `initialize` itself: every capability a downstream may bring, each list
 * with `listChanged`, so servers that start later can still announce what they offer.
 */
export const PROXY_CAPABILITIES: ServerCapabilities = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { listChanged: true, subscribe: true },
  logging: {},
  completions: {},
};
