import type { ElicitRequest, ElicitResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../../../src/audit/events.js';
import { memoryConsentStore, type ConsentStore } from '../../../../src/consent/store.js';
import type { ConsentDecision } from '../../../../src/dialog/template.js';
import { KeyproxyError } from '../../../../src/errors.js';
import type { RunningProxy } from '../../../../src/proxy/core/supervise.js';
import { serveServer } from '../../../../src/proxy/serve.js';
import {
  connectClient,
  fakeLauncher,
  inMemoryDeps,
  resultText,
  serveOptions,
  useTempRuntimeDir,
  type FakeLauncher,
  type InMemoryProxy,
  type TestClient,
} from '../helpers/in-memory-proxy.js';

const SERVER = { command: 'srv', env: { TOKEN: '${secret:token}' }, secrets: { token: {} } };
const SECRET = 'ghp-typed-in-the-dialog-0123456789';
const STORED = 'stored-in-the-keychain-9876543210';
const CODE = /^[A-Z0-9]{4}-[A-Z0-9]{4}$/;
const WAIT = { timeout: 3000, interval: 5 };

let restoreRuntimeDir: () => Promise<void>;
let running: RunningProxy | undefined;
let client: TestClient | undefined;

beforeEach(async () => {
  restoreRuntimeDir = await useTempRuntimeDir();
});

afterEach(async () => {
  await client?.close();
  await running?.stop();
  client = undefined;
  running = undefined;
  await restoreRuntimeDir();
});

/** Serves `gh` with in-memory fakes and connects a client (with form elicitation when `elicitation` is given). */
async function start(
  options: {
    server?: Record<string, unknown>;
    initial?: Record<string, Record<string, string>>;
    launcher?: FakeLauncher;
    elicitation?: (params: ElicitRequest['params']) => ElicitResult | Promise<ElicitResult>;
  } = {},
): Promise<InMemoryProxy & { client: TestClient }> {
  const proxy = inMemoryDeps({ initial: options.initial, launcher: options.launcher });
  running = await serveServer(serveOptions('gh', options.server ?? SERVER), proxy.deps);
  client = await connectClient(proxy.clientTransport, { elicitation: options.elicitation });
  return { ...proxy, client };
}

async function listTools(test: TestClient): Promise<Tool[]> {
  return (await test.client.listTools()).tools;
}

async function toolNames(test: TestClient): Promise<string[]> {
  return (await listTools(test)).map((tool) => tool.name);
}

function eventsNamed(events: AuditEvent[], name: string): Array<Record<string, unknown>> {
  return events.filter((event) => event.event === name) as unknown as Array<Record<string, unknown>>;
}

function consentAnswer(decision: ConsentDecision): ElicitResult {
  return { action: 'accept', content: { decision } };
}

describe('gated server: missing credentials', () => {
  it('answers initialize itself and lists only connect_<server> before anything is launched', async () => {
    const { client, launcher } = await start();
    expect(client.client.getServerVersion()).toEqual({ name: 'mcp-keyproxy/gh', version: '0.0.0-test' });
    expect(client.client.getInstructions()).toContain('connect_gh');
    expect(await toolNames(client)).toEqual(['connect_gh']);
    const [tool] = await listTools(client);
    expect(tool?.description).toContain('token');
    expect(launcher.launches).toHaveLength(0);
  });

  it('names a file left unused for want of trust in the connect tool, for the client to see', async () => {
    const proxy = inMemoryDeps({});
    const notice = 'The project file /repo/.mcp-keyproxy.json is not trusted, so it is not used';
    running = await serveServer(serveOptions('gh', SERVER, { notices: [notice] }), proxy.deps);
    client = await connectClient(proxy.clientTransport, {});
    const [tool] = await listTools(client);
    expect(tool?.description).toContain(`Note: ${notice}`);
  });

  it('without a progress token: shows the code in the result, stores the value, starts the server and announces its tools', async () => {
    const { client, dialog, store, launcher, auditSink } = await start();
    dialog.onCollect = () => ({ token: SECRET });

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} });
    expect(result.isError).toBeFalsy();

    await vi.waitFor(() => expect(dialog.collects).toHaveLength(1), WAIT);
    const [shown] = dialog.collects;
    expect(shown?.serverName).toBe('gh');
    expect(shown?.names).toEqual(['token']);
    expect(shown?.code).toMatch(CODE);
    expect(resultText(result)).toContain(shown!.code);

    await vi.waitFor(() => expect(launcher.launches).toHaveLength(1), WAIT);
    expect(await store.get('gh', 'token')).toBe(SECRET);
    expect(launcher.launches[0]!.values).toEqual(new Map([['token', SECRET]]));
    await vi.waitFor(() => expect(client.notifications('notifications/tools/list_changed').length).toBeGreaterThan(0), WAIT);
    expect(await toolNames(client)).toEqual(['echo', 'leak_token']);

    const echoed = await client.client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(resultText(echoed)).toBe('echo:hi');
    expect(launcher.launches[0]!.toolCalls).toEqual([{ name: 'echo', arguments: { text: 'hi' } }]);

    // A server that echoes its key back: the client gets the redaction, never the value.
    const leaked = await client.client.callTool({ name: 'leak_token', arguments: {} });
    expect(resultText(leaked)).toContain('[REDACTED');
    expect(JSON.stringify(client.received)).not.toContain(SECRET);

    const names = auditSink.events.map((event) => event.event);
    expect(names).toEqual(expect.arrayContaining(['dialog_shown', 'dialog_submitted', 'secret_stored']));
    expect(JSON.stringify(auditSink.events)).not.toContain(SECRET);
  });

  it('with a progress token: shows the code in progress messages and answers once the server is up', async () => {
    const { client, dialog, store, launcher } = await start();
    dialog.onCollect = () => ({ token: SECRET });
    const progress: Array<{ message?: string }> = [];

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} }, undefined, {
      onprogress: (update) => void progress.push(update),
    });

    expect(dialog.collects).toHaveLength(1);
    const code = dialog.collects[0]!.code;
    expect(code).toMatch(CODE);
    expect(dialog.collects[0]!.app).toBe('test-client');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]?.message).toContain(code);
    expect(result.isError).toBeFalsy();
    expect(resultText(result)).toBe('Connected to gh. Its 2 tools are now available: echo, leak_token.');
    expect(await store.get('gh', 'token')).toBe(SECRET);
    expect(launcher.launches.map((launch) => launch.values.get('token'))).toEqual([SECRET]);

    await vi.waitFor(() => expect(client.notifications('notifications/tools/list_changed').length).toBeGreaterThan(0), WAIT);
    expect(await toolNames(client)).toEqual(['echo', 'leak_token']);
    expect(resultText(await client.client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe('echo:again');
    expect(launcher.launches[0]!.toolCalls.map((call) => call.name)).toEqual(['echo']);
    expect(JSON.stringify(client.received)).not.toContain(SECRET);
  });

  it('a real tool called before connecting says to call connect_<server> first', async () => {
    const { client, launcher } = await start();
    const result = await client.client.callTool({ name: 'echo', arguments: {} });
    expect(result.isError).toBe(true);
    expect(resultText(result)).toContain('Call connect_gh first');
    expect(launcher.launches).toHaveLength(0);
  });

  it("with elicitation: the prompt shows the dialog's code while the dialog is open", async () => {
    let elicited!: () => void;
    const prompted = new Promise<void>((resolve) => (elicited = resolve));
    const { client, dialog, launcher } = await start({
      elicitation: () => {
        elicited();
        return { action: 'accept', content: {} };
      },
    });
    // The user submits the dialog only after the client showed the prompt.
    dialog.onCollect = async () => {
      await prompted;
      return { token: SECRET };
    };

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} });

    expect(client.elicitations).toHaveLength(1);
    const code = dialog.collects[0]!.code;
    expect(code).toMatch(CODE);
    expect(client.elicitations[0]?.message).toContain(code);
    expect(resultText(result)).toContain('Connected to gh');
    expect(launcher.launches.map((launch) => launch.values.get('token'))).toEqual([SECRET]);
    expect(JSON.stringify(client.received)).not.toContain(SECRET);
  });

  it('with elicitation: declining the prompt closes the dialog and stores nothing', async () => {
    const { client, dialog, store, launcher, auditSink } = await start({ elicitation: () => ({ action: 'decline' }) });
    // The user never touches the dialog: only the client's answer can close it.
    dialog.onCollect = () => new Promise(() => undefined);

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} });

    expect(dialog.collects).toHaveLength(1);
    expect(dialog.collects[0]!.signal.aborted).toBe(true);
    expect(resultText(result)).toContain('Cancelled: nothing was stored');
    expect(await store.list('gh')).toEqual([]);
    expect(launcher.launches).toHaveLength(0);
    expect(eventsNamed(auditSink.events, 'dialog_cancelled')).toEqual([expect.objectContaining({ by: 'client' })]);
  });

  it('a cancelled dialog stores nothing, launches nothing and keeps the connect tool', async () => {
    const { client, dialog, store, launcher, auditSink } = await start();
    dialog.onCollect = () => null;

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} }, undefined, { onprogress: () => undefined });

    expect(dialog.collects).toHaveLength(1);
    expect(result.isError).toBeFalsy();
    expect(resultText(result)).toMatch(/^Cancelled: nothing was stored\. Call connect_gh to try again\.$/);
    expect(await store.list('gh')).toEqual([]);
    expect(launcher.launches).toHaveLength(0);
    expect(await toolNames(client)).toEqual(['connect_gh']);
    expect(eventsNamed(auditSink.events, 'dialog_cancelled')).toEqual([
      expect.objectContaining({ server: 'gh', names: ['token'], by: 'user' }),
    ]);
    expect(eventsNamed(auditSink.events, 'secret_stored')).toEqual([]);
  });
});

describe('gated server: consent for stored secrets', () => {
  const initial = { gh: { token: STORED } };

  it.each(['once', 'session'] as const)('elicitation answered "%s" starts the server with the stored value', async (decision) => {
    const { client, launcher, auditSink, dialog } = await start({ initial, elicitation: () => consentAnswer(decision) });

    await vi.waitFor(() => expect(launcher.launches).toHaveLength(1), WAIT);
    expect(client.elicitations).toHaveLength(1);
    expect(client.elicitations[0]?.message).toContain('"gh"');
    expect(dialog.confirms).toHaveLength(0);
    expect(launcher.launches[0]!.values).toEqual(new Map([['token', STORED]]));
    await vi.waitFor(() => expect(client.notifications('notifications/tools/list_changed').length).toBeGreaterThan(0), WAIT);
    expect(await toolNames(client)).toEqual(['echo', 'leak_token']);
    expect(eventsNamed(auditSink.events, 'consent')).toEqual([expect.objectContaining({ server: 'gh', names: ['token'], decision })]);
    expect(JSON.stringify(client.received)).not.toContain(STORED);
  });

  it('a connect call while the first prompt is open joins it: one prompt, one consent, one start', async () => {
    let answer!: (result: ReturnType<typeof consentAnswer>) => void;
    const answered = new Promise<ReturnType<typeof consentAnswer>>((resolve) => (answer = resolve));
    const { client, launcher, auditSink } = await start({ initial, elicitation: () => answered });

    await vi.waitFor(() => expect(client.elicitations).toHaveLength(1), WAIT);
    const call = client.client.callTool({ name: 'connect_gh', arguments: {} });
    // Give a second prompt every chance to appear before the first is answered.
    await new Promise((resolve) => setTimeout(resolve, 50));
    answer(consentAnswer('once'));

    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(resultText(result)).toContain('Connected to gh');
    expect(client.elicitations).toHaveLength(1);
    expect(launcher.launches).toHaveLength(1);
    expect(eventsNamed(auditSink.events, 'consent')).toHaveLength(1);
  });

  it('elicitation answered "deny" keeps the connect tool, whose call says how to be asked again', async () => {
    const { client, launcher, auditSink } = await start({ initial, elicitation: () => consentAnswer('deny') });

    await vi.waitFor(() => expect(eventsNamed(auditSink.events, 'consent')).toHaveLength(1), WAIT);
    expect(eventsNamed(auditSink.events, 'consent')[0]).toMatchObject({ server: 'gh', names: ['token'], decision: 'deny' });
    const tools = await listTools(client);
    expect(tools.map((tool) => tool.name)).toEqual(['connect_gh']);
    expect(tools[0]?.description).toContain('denied');

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} });
    expect(client.elicitations).toHaveLength(2);
    expect(result.isError).toBe(true);
    expect(resultText(result)).toContain('Call connect_gh to be asked again');
    expect(launcher.launches).toHaveLength(0);
    expect(eventsNamed(auditSink.events, 'consent').map((event) => event['decision'])).toEqual(['deny', 'deny']);
    expect(await toolNames(client)).toEqual(['connect_gh']);
  });

  it('without elicitation waits for connect, whose result shows the code of the dialog it opens', async () => {
    const proxy = inMemoryDeps({ initial });
    let allow!: (decision: 'once') => void;
    proxy.dialog.onConfirm = () => new Promise((resolve) => (allow = resolve));
    running = await serveServer(serveOptions('gh', SERVER), proxy.deps);
    client = await connectClient(proxy.clientTransport);
    expect(await toolNames(client)).toEqual(['connect_gh']);
    expect(proxy.dialog.confirms).toHaveLength(0);

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} });
    expect(proxy.dialog.confirms).toHaveLength(1);
    const [asked] = proxy.dialog.confirms;
    expect(asked).toMatchObject({ serverName: 'gh', secretNames: ['token'], app: 'test-client' });
    expect(asked?.code).toMatch(CODE);
    expect(resultText(result)).toContain(`with the code ${asked!.code}`);
    expect(resultText(result)).toContain('will appear');
    expect(proxy.launcher.launches).toHaveLength(0);

    allow('once');
    await vi.waitFor(() => expect(proxy.launcher.launches).toHaveLength(1), WAIT);
    await vi.waitFor(() => expect(client!.notifications('notifications/tools/list_changed').length).toBeGreaterThan(0), WAIT);
    expect(proxy.dialog.collects).toHaveLength(0);
    expect(eventsNamed(proxy.auditSink.events, 'consent')).toEqual([expect.objectContaining({ decision: 'once' })]);
  });

  it('without elicitation, a call with a progress token gets the code as progress and the result when answered', async () => {
    const proxy = inMemoryDeps({ initial });
    proxy.dialog.onConfirm = () => 'session';
    running = await serveServer(serveOptions('gh', SERVER), proxy.deps);
    client = await connectClient(proxy.clientTransport);
    const progress: Array<{ message?: string }> = [];

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} }, undefined, {
      onprogress: (update) => void progress.push(update),
    });
    expect(progress[0]?.message).toContain(`with the code ${proxy.dialog.confirms[0]!.code}`);
    expect(resultText(result)).toBe('Connected to gh. Its 2 tools are now available: echo, leak_token.');
  });

  it('a dialog that cannot be shown is no denial: the state stays, the reason says what to do, no consent is recorded', async () => {
    const proxy = inMemoryDeps({ initial });
    proxy.dialog.onConfirm = () => {
      throw new KeyproxyError('DIALOG_UNAVAILABLE', 'Cannot ask for consent: no display. Use "confirm": false on the server.');
    };
    running = await serveServer(serveOptions('gh', SERVER), proxy.deps);
    client = await connectClient(proxy.clientTransport);

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} }, undefined, { onprogress: () => undefined });
    expect(result.isError).toBe(true);
    expect(resultText(result)).toContain('no display');
    expect(resultText(result)).not.toContain('denied');
    expect(eventsNamed(proxy.auditSink.events, 'consent')).toEqual([]);
    const [tool] = await listTools(client);
    expect(tool?.description).toContain('got no answer: Cannot ask for consent: no display');
    expect(tool?.description).not.toContain('denied');
    expect(proxy.launcher.launches).toHaveLength(0);
  });

  it('"session": after the server ends, connect starts it again without asking', async () => {
    const { client, launcher, auditSink } = await start({ initial, elicitation: () => consentAnswer('session') });
    await vi.waitFor(() => expect(launcher.launches).toHaveLength(1), WAIT);
    await vi.waitFor(async () => expect(await toolNames(client)).toEqual(['echo', 'leak_token']), WAIT);

    const changesBefore = client.notifications('notifications/tools/list_changed').length;
    await launcher.launches[0]!.end();
    await vi.waitFor(() => expect(client.notifications('notifications/tools/list_changed').length).toBeGreaterThan(changesBefore), WAIT);
    const [tool, ...others] = await listTools(client);
    expect(others).toEqual([]);
    expect(tool?.name).toBe('connect_gh');
    expect(tool?.description).toContain('stopped');

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} });
    expect(resultText(result)).toBe('Connected to gh. Its 2 tools are now available: echo, leak_token.');
    expect(launcher.launches).toHaveLength(2);
    expect(client.elicitations).toHaveLength(1);
    expect(eventsNamed(auditSink.events, 'consent')).toHaveLength(1);
    expect(await toolNames(client)).toEqual(['echo', 'leak_token']);
  });

  it('"once": after the server ends, connect asks again', async () => {
    const { client, launcher, auditSink } = await start({ initial, elicitation: () => consentAnswer('once') });
    await vi.waitFor(() => expect(launcher.launches).toHaveLength(1), WAIT);
    await vi.waitFor(async () => expect(await toolNames(client)).toEqual(['echo', 'leak_token']), WAIT);

    await launcher.launches[0]!.end();
    await vi.waitFor(async () => expect(await toolNames(client)).toEqual(['connect_gh']), WAIT);

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(client.elicitations).toHaveLength(2);
    expect(launcher.launches).toHaveLength(2);
    expect(eventsNamed(auditSink.events, 'consent').map((event) => event['decision'])).toEqual(['once', 'once']);
  });
});

describe('gated server: remembered consent ("Allow always")', () => {
  const initial = { gh: { token: STORED } };

  /** Serves `gh` (defined as `server`) against `consent`, connects a client, and returns both. */
  async function serveWith(consent: ConsentStore, server: Record<string, unknown>, decision: ConsentDecision) {
    const proxy = inMemoryDeps({ initial, consent });
    proxy.dialog.onConfirm = () => decision;
    running = await serveServer(serveOptions('gh', server), proxy.deps);
    client = await connectClient(proxy.clientTransport, { elicitation: () => consentAnswer(decision) });
    return { proxy, client };
  }

  async function restart(): Promise<void> {
    await client?.close();
    await running?.stop();
    client = undefined;
    running = undefined;
  }

  it('"always" is kept: the next proxy starts the server at once, with no prompt, and the audit says "remembered"', async () => {
    const consent = memoryConsentStore();
    const first = await serveWith(consent, SERVER, 'always');
    await vi.waitFor(() => expect(first.proxy.launcher.launches).toHaveLength(1), WAIT);
    expect((first.client.elicitations[0] as { requestedSchema?: unknown } | undefined)?.requestedSchema).toMatchObject({
      properties: { decision: { oneOf: expect.arrayContaining([expect.objectContaining({ const: 'always' })]) } },
    });
    expect(consent.list()).toEqual([expect.objectContaining({ server: 'gh', secrets: ['token'], target: 'srv' })]);
    await restart();

    const second = await serveWith(consent, SERVER, 'deny');
    // Transparent: the real tools at once, no connect tool, no prompt of any kind.
    expect(await toolNames(second.client)).toEqual(['echo', 'leak_token']);
    expect(second.client.elicitations).toHaveLength(0);
    expect(second.proxy.dialog.confirms).toHaveLength(0);
    expect(eventsNamed(second.proxy.auditSink.events, 'consent')).toEqual([
      expect.objectContaining({ server: 'gh', names: ['token'], decision: 'remembered' }),
    ]);
  });

  it.each([
    ['its args', { ...SERVER, args: ['--other'] }],
    ['its env', { ...SERVER, env: { ...SERVER.env, NODE_OPTIONS: '--require /tmp/x.js' } }],
    ['its command', { ...SERVER, command: 'srv2' }],
  ])('a change of %s asks again', async (_what, changed) => {
    const consent = memoryConsentStore();
    await serveWith(consent, SERVER, 'always');
    await vi.waitFor(() => expect(consent.list()).toHaveLength(1), WAIT);
    await restart();

    const again = await serveWith(consent, changed, 'once');
    await vi.waitFor(() => expect(again.client.elicitations).toHaveLength(1), WAIT);
    await vi.waitFor(() => expect(again.proxy.launcher.launches).toHaveLength(1), WAIT);
  });

  it('another set of stored secrets asks again', async () => {
    const consent = memoryConsentStore();
    const two = { ...SERVER, env: { TOKEN: '${secret:token}', URL: '${secret:url}' }, secrets: { token: {}, url: { required: false } } };
    await serveWith(consent, two, 'always');
    await vi.waitFor(() => expect(consent.list()).toHaveLength(1), WAIT);
    await restart();

    const proxy = inMemoryDeps({ initial: { gh: { token: STORED, url: 'https://example.org/x' } }, consent });
    running = await serveServer(serveOptions('gh', two), proxy.deps);
    client = await connectClient(proxy.clientTransport, { elicitation: () => consentAnswer('once') });
    await vi.waitFor(() => expect(client!.elicitations).toHaveLength(1), WAIT);
    expect(client.elicitations[0]?.message).toContain('token, url');
  });

  it('a revoked grant asks again', async () => {
    const consent = memoryConsentStore();
    await serveWith(consent, SERVER, 'always');
    await vi.waitFor(() => expect(consent.list()).toHaveLength(1), WAIT);
    await restart();
    expect(await consent.revoke('gh')).toEqual(['gh']);

    const again = await serveWith(consent, SERVER, 'once');
    await vi.waitFor(() => expect(again.client.elicitations).toHaveLength(1), WAIT);
  });

  it.each<['always' | 'once', string]>([
    ['always', 'starts without a prompt of its own'],
    ['once', 'does not open a window, and says to call connect again'],
  ])('a second proxy whose connect comes while the first asks: one prompt; after "%s" it %s', async (answer) => {
    const consent = memoryConsentStore();
    const first = inMemoryDeps({ initial, consent });
    const second = inMemoryDeps({ initial, consent });
    let decide!: (decision: ConsentDecision) => void;
    first.dialog.onConfirm = () => new Promise((resolve) => (decide = resolve));
    second.dialog.onConfirm = () => 'once';
    const runningFirst = await serveServer(serveOptions('gh', SERVER), first.deps);
    const runningSecond = await serveServer(serveOptions('gh', SERVER), second.deps);
    const clientFirst = await connectClient(first.clientTransport);
    const clientSecond = await connectClient(second.clientTransport);
    try {
      const toldFirst = await clientFirst.client.callTool({ name: 'connect_gh', arguments: {} });
      expect(resultText(toldFirst)).toContain(`with the code ${first.dialog.confirms[0]!.code}`);
      const toldSecond = await clientSecond.client.callTool({ name: 'connect_gh', arguments: {} });
      expect(resultText(toldSecond)).toContain('Another mcp-keyproxy process');
      expect(second.dialog.confirms).toHaveLength(0);

      decide(answer);
      await vi.waitFor(() => expect(first.launcher.launches).toHaveLength(1), WAIT);
      if (answer === 'always') {
        await vi.waitFor(() => expect(second.launcher.launches).toHaveLength(1), WAIT);
        expect(eventsNamed(second.auditSink.events, 'consent')).toEqual([expect.objectContaining({ decision: 'remembered' })]);
      } else {
        await vi.waitFor(
          async () => expect((await listTools(clientSecond))[0]?.description).toContain('another mcp-keyproxy process'),
          WAIT,
        );
        expect(second.launcher.launches).toHaveLength(0);
        // Asked again, it asks here.
        await clientSecond.client.callTool({ name: 'connect_gh', arguments: {} });
        await vi.waitFor(() => expect(second.launcher.launches).toHaveLength(1), WAIT);
      }
      expect(second.dialog.confirms).toHaveLength(answer === 'always' ? 0 : 1);
    } finally {
      await clientFirst.close();
      await clientSecond.close();
      await runningFirst.stop();
      await runningSecond.stop();
    }
  });

  it('"consent": "dialog" never asks by elicitation, even a client that has it: the native dialog, when connect is called', async () => {
    const consent = memoryConsentStore();
    const { proxy, client } = await serveWith(consent, { ...SERVER, consent: 'dialog' }, 'always');
    expect(await toolNames(client)).toEqual(['connect_gh']);
    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} });
    expect(resultText(result)).toContain(`with the code ${proxy.dialog.confirms[0]!.code}`);
    await vi.waitFor(() => expect(proxy.launcher.launches).toHaveLength(1), WAIT);
    expect(client.elicitations).toHaveLength(0);
    expect(consent.list()).toHaveLength(1);
  });
});

describe('gated server: optional secrets', () => {
  it('the dialog offers the optional secrets not stored yet beside the missing ones, marked optional; a blank one is not stored', async () => {
    const server = {
      command: 'srv',
      env: { TOKEN: '${secret:token}', REGION: '${secret:region}', ORG: '${secret:org}' },
      secrets: { token: {}, region: { required: false, default: 'eu-west-1', field_type: 'text' }, org: { required: false } },
    };
    const { client, dialog, store } = await start({ server, initial: { gh: { org: 'stored-org-name' } } });
    dialog.onCollect = () => ({ token: SECRET, region: '' });

    await client.client.callTool({ name: 'connect_gh', arguments: {} }, undefined, { onprogress: () => undefined });
    expect(dialog.collects[0]?.names).toEqual(['token', 'region']);
    expect(dialog.collects[0]?.declarations['region']).toMatchObject({ required: false, default: 'eu-west-1' });
    expect(await store.get('gh', 'token')).toBe(SECRET);
    expect(await store.get('gh', 'region')).toBeNull();
  });
});

describe('gated server: a rejected key', () => {
  it('brings the connect tool back, says the key may be rejected, and asks for every secret again', async () => {
    const server = {
      command: 'srv',
      env: { ORG: '${secret:org}', TOKEN: '${secret:token}' },
      secrets: { org: {}, token: {} },
    };
    // The first server refuses its key (it closes during the handshake); the second accepts the new one.
    const launcher = fakeLauncher({ reject: (_context, index) => index === 0 });
    const { client, dialog, store } = await start({ server, initial: { gh: { org: 'acme-org-name' } }, launcher });
    const answers = ['rejected-key-value-0001', SECRET];
    dialog.onCollect = () => ({ token: answers.shift()! });

    // The call fails; whether as an error result or a JSON-RPC error is not what this test is about.
    const failed = await client.client.callTool({ name: 'connect_gh', arguments: {} }, undefined, { onprogress: () => undefined }).then(
      (result) => (result.isError ? resultText(result) : 'succeeded'),
      (error: Error) => error.message,
    );
    expect(failed).toMatch(/could not start: it ended during start-up \(exit code 1\)/);
    expect(dialog.collects.map((call) => call.names)).toEqual([['token']]);
    expect(launcher.launches).toHaveLength(1);
    expect(launcher.launches[0]!.rejected).toBe(true);
    await vi.waitFor(() => expect(client.notifications('notifications/tools/list_changed').length).toBeGreaterThan(0), WAIT);
    const tools = await listTools(client);
    expect(tools.map((tool) => tool.name)).toEqual(['connect_gh']);
    expect(tools[0]?.description).toContain('it may have rejected its credentials');

    const result = await client.client.callTool({ name: 'connect_gh', arguments: {} }, undefined, { onprogress: () => undefined });
    expect(dialog.collects.map((call) => call.names)).toEqual([['token'], ['org', 'token']]);
    expect(resultText(result)).toContain('Connected to gh');
    expect(await store.get('gh', 'token')).toBe(SECRET);
    expect(launcher.launches[1]!.values).toEqual(
      new Map([
        ['org', 'acme-org-name'],
        ['token', SECRET],
      ]),
    );
    expect(await toolNames(client)).toEqual(['echo', 'leak_token']);
    expect(JSON.stringify(client.received)).not.toContain(SECRET);
    expect(JSON.stringify(client.received)).not.toContain('rejected-key-value-0001');
  });
});

describe('gated server: headless', () => {
  it('rejects with SECRET_MISSING naming the command that fixes it, before opening the client side', async () => {
    const proxy = inMemoryDeps();
    const openFront = vi.spyOn(proxy.deps, 'openFront');

    const failure = await serveServer(serveOptions('gh', SERVER, { headless: true }), proxy.deps).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(KeyproxyError);
    expect((failure as KeyproxyError).code).toBe('SECRET_MISSING');
    expect((failure as KeyproxyError).message).toContain('mcp-keyproxy secrets set gh token');
    expect(openFront).not.toHaveBeenCalled();
    expect(proxy.launcher.launches).toHaveLength(0);
    expect(proxy.dialog.collects).toHaveLength(0);
  });
});
