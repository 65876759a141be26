/**
 * The 2025-era protocol versions, as the MCP SDK (1.32) lists them: the newest first. Kept here because the SDK's
 * own constants live in its types module, whose zod schemas cost every start that loads it about 15 ms of CPU; a
 * unit test checks that these are the SDK's.
 */
export const LATEST_PROTOCOL_VERSION = '2025-11-25';
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  LATEST_PROTOCOL_VERSION,
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
  '2024-10-07',
];
