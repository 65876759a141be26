import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/events.js';
import { requireKeyringSession, uniqueServer } from '../helpers/keyring.js';
import { runBin, writeConfig } from '../helpers/proxy.js';
import { remoteServerEntry, startRemoteFixture } from '../helpers/remote.js';

const server = uniqueServer('e2e-audit');
const value = `audit-canary-${randomBytes(16).toString('hex')}`;
let stateDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  requireKeyringSession();
  // A directory that does not exist yet: the CLI creates it (0700).
  stateDir = join(await mkdtemp(join(tmpdir(), 'mcp-keyproxy-state-')), 'state');
  env = { ...process.env, MCP_KEYPROXY_STATE_DIR: stateDir };
});

describe('audit log of the secrets commands (built bin, real keychain)', () => {
  it('records stored and deleted with names only, in a 0600 file, and `audit --json` shows them', async () => {
    const set = await runBin(['secrets', 'set', server, 'API_TOKEN'], { input: `${value}\n`, env });
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    const deleted = await runBin(['secrets', 'delete', server, 'API_TOKEN'], { env });
    expect(deleted.code).toBe(0);

    const file = join(stateDir, 'audit.jsonl');
    const raw = await readFile(file, 'utf8');
    expect(raw).not.toContain(value);
    expect(raw).not.toContain(Buffer.from(value).toString('base64'));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);

    const lines = raw
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEvent);
    expect(lines).toEqual([
      { ts: expect.any(String), event: 'secret_stored', pid: expect.any(Number), server, name: 'API_TOKEN', via: 'cli' },
      { ts: expect.any(String), event: 'secret_deleted', pid: expect.any(Number), server, name: 'API_TOKEN', via: 'cli' },
    ]);

    const shown = await runBin(['audit', '--json', '--server', server, '--since', '5m'], { env });
    expect(shown.code).toBe(0);
    expect(shown.stderr).toBe('');
    expect(shown.stdout).not.toContain(value);
    expect((JSON.parse(shown.stdout) as AuditEvent[]).map((event) => event.event)).toEqual(['secret_stored', 'secret_deleted']);

    const human = await runBin(['audit', '--server', server], { env });
    expect(human.stdout).toMatch(new RegExp(`secret_stored +${server}  name=API_TOKEN  via=cli`));
  });

  it('records what doctor reads from the keychain and sends to a remote server, names only', async () => {
    const remote = uniqueServer('e2e-audit-doctor');
    const token = `doctor-canary-${randomBytes(16).toString('hex')}`;
    const fixture = await startRemoteFixture({ token });
    const config = await writeConfig({ [remote]: remoteServerEntry(`${fixture.origin}/mcp`) });
    try {
      expect(await runBin(['secrets', 'set', remote, 'api_key', '--config', config], { input: token, env })).toMatchObject({ code: 0 });
      const doctor = await runBin(['doctor', '--config', config], { env });
      expect(doctor.stdout).toMatch(/OK +.*answered .* and accepted its credentials/);
      expect(doctor.stdout + doctor.stderr).not.toContain(token);

      const raw = await readFile(join(stateDir, 'audit.jsonl'), 'utf8');
      expect(raw).not.toContain(token);
      const events = raw
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((event) => event.server === remote);
      expect(events.map(({ event, names, target }) => ({ event, names, target }))).toEqual([
        { event: 'secret_stored', names: undefined, target: undefined },
        { event: 'secret_read', names: ['api_key'], target: undefined },
        { event: 'injection', names: ['api_key'], target: 'header' },
      ]);
    } finally {
      await fixture.stop();
      await runBin(['secrets', 'clear', remote, '--yes'], { env });
    }
  });
});
