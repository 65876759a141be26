import { isLocalServer } from '../config/types.js';
import type { ServerConfig } from '../config/schema.js';
import type { DownstreamLauncher } from './downstream/downstream.js';
import { launchLocal } from './local/launch-local.js';

/** The code that reaches remote servers, the SDK's HTTP transport included: loaded only for a remote server. */
async function loadRemote(): Promise<typeof import('./remote/launch-remote.js')> {
  const [launcher] = await Promise.all([import('./remote/launch-remote.js'), import('@modelcontextprotocol/sdk/client/streamableHttp.js')]);
  return launcher;
}

/** The real launcher: a local stdio child, or a remote session. */
export const launchDownstream: DownstreamLauncher = Object.assign(
  async (context: Parameters<DownstreamLauncher>[0]) => {
    const { server } = context;
    return isLocalServer(server) ? launchLocal({ ...context, server }) : (await loadRemote()).launchRemote({ ...context, server });
  },
  { preload: (server: ServerConfig) => (isLocalServer(server) ? Promise.resolve() : loadRemote()) },
);
