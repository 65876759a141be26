import type { LocalServerConfig, ServerConfig } from './schema.js';

/** A config file after validation. */
export interface LoadedConfig {
  /** Absolute path of the file it came from. */
  path: string;
  /** Servers by name (from `servers` or `mcpServers`). */
  servers: Record<string, ServerConfig>;
  /** Between server and tool name when every server is served behind one endpoint (default `__`). */
  toolSeparator: string;
  /** Non-fatal findings (e.g. a literal value that looks like a credential), each naming file and JSON path. */
  warnings: string[];
}

/** True when the server is launched locally as a stdio child. */
export function isLocalServer(server: ServerConfig): server is LocalServerConfig {
  return 'command' in server;
}
