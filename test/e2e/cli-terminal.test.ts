// The CLI as a person uses it at a terminal: the built bin on a real pseudo-terminal (test/helpers/pty-bridge.py),
// values read back from the real keychain (scripts/with-keyring.sh).
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyringStore } from '../../src/secrets/keyring-store.js';
import { requireKeyringSession, uniqueServer } from '../helpers/keyring.js';
import { binPath, everythingServer, writeConfig } from '../helpers/proxy.js';
import { keys, startOnPty } from '../helpers/pty.js';

requireKeyringSession();

const store = new KeyringStore();
const used: string[] = [];
function server(): string {
  const name = uniqueServer('e2e-cli-tty');
  used.push(name);
  return name;
}
afterAll(async () => {
  for (const name of used) for (const secret of await store.list(name)) await store.delete(name, secret);
});

/** Control characters and escape sequences, as they would show in a stored value. */
const CONTROL = /\p{Cc}/u;
/** A stack trace line. */
const STACK_LINE = /\n\s+at /;

describe('secrets set at the hidden prompt', () => {
  it('edits with arrows, Home/End and backspace; Tab and escape bytes are never stored; the value is never shown', async () => {
    const name = server();
    const session = startOnPty(['secrets', 'set', '--new-server', name, 'TOKEN']);
    await session.waitFor(/TOKEN for e2e-cli-tty-\w+/);
    // tokn ← e: "token"; End, Tab (not stored), "-valux" ⌫ "e": "token-value"; Home "my-": "my-token-value".
    await session.type('tokn', keys.left, 'e', keys.end, keys.tab, '-valux', keys.backspace, 'e', keys.home, 'my-', keys.end, keys.enter);
    expect(await session.exited).toBe(0);
    expect(await store.get(name, 'TOKEN')).toBe('my-token-value');
    expect(session.screen()).toContain(`Stored TOKEN for ${name}`);
    expect(session.screen()).not.toContain('token-value');
  });

  it('refuses a pasted value of several lines, stores nothing, and says to use stdin', async () => {
    const name = server();
    const session = startOnPty(['secrets', 'set', '--new-server', name, 'KEY']);
    await session.waitFor(/KEY for/);
    await session.type(keys.paste('-----BEGIN PRIVATE KEY-----\nAAAAlineone\nBBBBlinetwo\n-----END PRIVATE KEY-----\n'));
    expect(await session.exited).toBe(2);
    expect(session.screen()).toContain(`A value of several lines was pasted; nothing was stored.`);
    expect(session.screen()).toContain(`mcp-keyproxy secrets set ${name} KEY < key.pem`);
    expect(session.screen()).not.toContain('AAAAlineone');
    expect(await store.list(name)).toEqual([]);
  });

  it('refuses a multi-line paste from a terminal that does not mark pastes, too', async () => {
    const name = server();
    const session = startOnPty(['secrets', 'set', '--new-server', name, 'KEY']);
    await session.waitFor(/KEY for/);
    await session.type('first-line-of-it\rsecond-line-of-it\r');
    expect(await session.exited).toBe(2);
    expect(session.screen()).toContain('A value of several lines was pasted');
    expect(await store.list(name)).toEqual([]);
  });

  it('takes a one-line paste (its trailing line break submits it)', async () => {
    const name = server();
    const session = startOnPty(['secrets', 'set', '--new-server', name, 'TOKEN']);
    await session.waitFor(/TOKEN for/);
    await session.type(keys.paste('pasted-token-1234\n'));
    expect(await session.exited).toBe(0);
    expect(await store.get(name, 'TOKEN')).toBe('pasted-token-1234');
  });

  it('Ctrl-C cancels with exit code 130 and stores nothing', async () => {
    const name = server();
    const session = startOnPty(['secrets', 'set', '--new-server', name, 'TOKEN']);
    await session.waitFor(/TOKEN for/);
    await session.type('partial-val', keys.ctrlC);
    expect(await session.exited).toBe(130);
    expect(session.screen()).toContain('Cancelled (Ctrl-C); nothing was stored.');
    expect(session.screen()).not.toMatch(STACK_LINE);
    expect(await store.list(name)).toEqual([]);
  });
});

describe('secrets set from stdin', () => {
  it('keeps every line of a file redirected with <, as the shell does it', async () => {
    const name = server();
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keyproxy-pem-'));
    const pem = [
      '-----BEGIN PRIVATE KEY-----',
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      'BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
      '-----END PRIVATE KEY-----',
    ].join('\n');
    await writeFile(join(dir, 'key.pem'), `${pem}\n`);
    const { stdout } = await promisify(execFile)(
      'sh',
      ['-c', `"${process.execPath}" "${binPath}" secrets set --new-server ${name} KEY < key.pem`],
      {
        cwd: dir,
      },
    );
    expect(stdout).toContain(`Stored KEY for ${name}`);
    const stored = await store.get(name, 'KEY');
    expect(stored).toBe(pem);
    expect(stored?.split('\n')).toHaveLength(4);
    expect(stored).not.toMatch(/[\r\t]/);
    expect(CONTROL.test(stored!.replaceAll('\n', ''))).toBe(false);
  });
});

describe('run at a terminal', () => {
  it('prints human-readable logs when stderr is a terminal, and exits 130 on Ctrl-C', async () => {
    const config = await writeConfig({ plain: everythingServer({}) });
    const session = startOnPty(['run', 'plain', '--config', config]);
    await session.waitFor(/INFO.*server started/);
    // An answer on the terminal (its stdout) shows the proxy serving, its signal handlers set: Ctrl-C is then
    // the proxy's own stop, not Node's default end.
    await session.type('{"jsonrpc":"2.0","id":1,"method":"ping"}\r');
    await session.waitFor(/"(result|error)"/);
    await session.type(keys.ctrlC);
    expect(await session.exited).toBe(130);
    expect(session.screen()).toMatch(/INFO.*stopping[\s\S]*reason.*SIGINT/);
    expect(session.screen()).not.toContain('{"level"');
    expect(session.screen()).not.toMatch(STACK_LINE);
  });

  it('decides by stderr alone: human-readable when only stderr is a terminal, JSON lines when it is a pipe', async () => {
    const config = await writeConfig({ plain: everythingServer({}) });
    const session = startOnPty(['run', 'plain', '--config', config], { stderrOnly: true });
    await session.waitFor(/INFO.*server started/);
    session.process.stdin.end();
    expect(await session.exited).toBe(0);
    expect(session.screen()).not.toContain('{"level"');
    // As a client starts it: stdin, stdout and stderr all pipes.
    const piped = await new Promise<string>((resolve) => {
      const child = execFile(
        process.execPath,
        [binPath, 'run', 'plain', '--config', config],
        { timeout: 20_000 },
        (_error, _stdout, stderr) => resolve(stderr),
      );
      child.stdin?.end();
    });
    const lines = piped.trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(expect.arrayContaining(['stopping']));
    expect(piped).not.toMatch(STACK_LINE);
  });
});
