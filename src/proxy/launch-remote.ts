import type { RemoteServerConfig } from '../config/schema.js';
import { KeyproxyError } from '../errors.js';
import type { Launcher } from './downstream.js';

/** Connects to a remote MCP server. Not yet implemented: see the remote-servers issue. */
export const launchRemote: Launcher<RemoteServerConfig> = ({ serverName }) =>
  Promise.reject(
    new KeyproxyError('CONFIG_INVALID', `Server "${serverName}" is remote (url); remote servers are not supported in this version yet.`),
  );
