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
  /** Where a server is defined when not in `path`: a project server, by name, gives its project file. */
  definedIn?: Record<string, string>;
  /** The trusted project file applied over the config (`.mcp-keyproxy.json`), if any. */
  project?: string;
  /**
   * Files found but not used because the user has not trusted them (or they changed since): a project file, or a
   * proxy.config.json in the working directory. Each is to be reported (stderr, and the client-visible status).
   */
  untrusted?: UntrustedFile[];
}

/** A file found in the working directory (or a parent) and left unused until the user trusts it. */
export interface UntrustedFile {
  path: string;
  kind: 'project' | 'config';
  /** Never trusted, or trusted with another content. */
  state: 'untrusted' | 'changed';
  /** What happened and what to do, for stderr and the status tool. */
  message: string;
}

/** True when the server is launched locally as a stdio child. */
export function isLocalServer(server: ServerConfig): server is LocalServerConfig {
  return 'command' in server;
}
