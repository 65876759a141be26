import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { LOGIN_REQUIRED_MARK } from '../../../../src/proxy/downstream/login-answer.js';
import { LoginWatch } from '../../../../src/proxy/setup/login-switch.js';

const initialize: JSONRPCMessage = {
  jsonrpc: '2.0',
  id: 7,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const loginAnswer = (id: number): JSONRPCMessage => ({
  jsonrpc: '2.0',
  id,
  error: { code: -32030, message: 'needs an OAuth login', data: { login: LOGIN_REQUIRED_MARK } },
});

/** A LoginWatch over one end of a linked pair; the other end plays the server. */
async function watched(
  takes: boolean,
): Promise<{ server: InMemoryTransport; passed: JSONRPCMessage[]; logins: unknown[]; watch: LoginWatch }> {
  const [inner, server] = InMemoryTransport.createLinkedPair();
  const passed: JSONRPCMessage[] = [];
  const logins: unknown[] = [];
  const watch = new LoginWatch(inner, (id) => {
    logins.push(id);
    return takes;
  });
  watch.onmessage = (message) => passed.push(message);
  await Promise.all([watch.start(), server.start()]);
  return { server, passed, logins, watch };
}

describe('LoginWatch', () => {
  it('keeps the "log in" answer to initialize from the client when the switch takes it', async () => {
    const { server, passed, logins, watch } = await watched(true);
    await watch.send(initialize);
    await server.send(loginAnswer(7));
    expect(logins).toEqual([7]);
    expect(passed).toEqual([]);
  });

  it('passes it on when the switch does not take it (headless), and every other answer always', async () => {
    const { server, passed, logins, watch } = await watched(false);
    await watch.send(initialize);
    await server.send({ jsonrpc: '2.0', id: 3, error: { code: -32030, message: 'rejected', data: { login: LOGIN_REQUIRED_MARK } } });
    await server.send(loginAnswer(7));
    await server.send(loginAnswer(7));
    expect(logins).toEqual([7]);
    expect(passed).toHaveLength(3);
  });
});
