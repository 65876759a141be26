import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { requireKeyringSession } from '../helpers/keyring.js';
import { passthroughSuite } from '../helpers/passthrough.js';
import { connectThroughProxy, runBin, writeConfig } from '../helpers/proxy.js';
import { remoteServerEntry, startEverythingHttp, storeSecret, type HttpServerProcess } from '../helpers/remote.js';

const server = `e2e-remote-everything-${randomBytes(4).toString('hex')}`;
const token = `everything-canary-${randomBytes(16).toString('hex')}`;
let everything: HttpServerProcess;
let config: string;

beforeAll(async () => {
  requireKeyringSession();
  everything = await startEverythingHttp();
  config = await writeConfig({ [server]: remoteServerEntry(`${everything.origin}/mcp`, { transport: 'http' }) });
  await storeSecret(config, server, 'api_key', token);
});

afterAll(async () => {
  await everything?.stop();
  await runBin(['secrets', 'clear', server, '--yes']);
});

describe('remote passthrough: server-everything over Streamable HTTP on 127.0.0.1', () => {
  passthroughSuite(
    (capabilities) => connectThroughProxy({ config, server, capabilities }),
    () => token,
  );
});
