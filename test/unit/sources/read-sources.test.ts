import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyproxyError } from '../../../src/errors.js';
import { readSecretFile, SecretFileError } from '../../../src/sources/file-source.js';
import { readSources, readSourcesSettled, type SourceDeps, type SourceRequest } from '../../../src/sources/read-sources.js';
import { injectTemplate } from '../../../src/sources/op-source.js';
import type { SecretSource } from '../../../src/sources/source.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');
const opDir = path.join(fixtures, 'op');
const printSecret = path.join(fixtures, 'print-secret.mjs');
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'keyproxy-sources-'));
  dirs.push(dir);
  return dir;
}

async function secretFile(dir: string, name: string, content: string, mode: number): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  await chmod(file, mode);
  return file;
}

/** Reads one source for server "srv", secret "TOKEN"; returns the value or the SOURCE_FAILED error. */
async function readOne(source: SecretSource, deps: Partial<SourceDeps> = {}): Promise<string | KeyproxyError> {
  try {
    const values = await readSources('srv', [{ secret: 'TOKEN', source }], { env: {}, ...deps });
    return values.get('TOKEN') ?? 'absent';
  } catch (error) {
    if (error instanceof KeyproxyError) return error;
    throw error;
  }
}

function message(outcome: string | KeyproxyError): string {
  if (!(outcome instanceof KeyproxyError)) throw new Error('expected an error, got a value');
  expect(outcome.code).toBe('SOURCE_FAILED');
  return outcome.message;
}

const withOp = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ PATH: `${opDir}:${process.env.PATH ?? ''}`, ...extra });

describe('env source', () => {
  it("reads the proxy's own variable as it is, and names a missing one", async () => {
    expect(await readOne({ kind: 'env', variable: 'CI_TOKEN' }, { env: { CI_TOKEN: 'ci-value-123\n' } })).toBe('ci-value-123\n');
    expect(message(await readOne({ kind: 'env', variable: 'CI_TOKEN' }, { env: { CI_TOKEN: 'abc' } }))).toContain(
      'shorter than 4 characters',
    );
    const text = message(await readOne({ kind: 'env', variable: 'CI_TOKEN' }));
    expect(text).toContain('Secret TOKEN of server "srv" comes from env:CI_TOKEN');
    expect(text).toContain('not set');
  });
});

describe('file and credential sources', () => {
  it('reads a 0600 file with its trailing newline stripped', async () => {
    const dir = await tempDir();
    expect(await readOne({ kind: 'file', path: await secretFile(dir, 'a', 'file-secret-1\n', 0o600) })).toBe('file-secret-1');
  });

  it('refuses a 0644 file with the chmod 600 fix, and never shows its content', async () => {
    const dir = await tempDir();
    const file = await secretFile(dir, 'open', 'visible-secret-2\n', 0o644);
    const text = message(await readOne({ kind: 'file', path: file }));
    expect(text).toContain('permissions 0644');
    expect(text).toContain(`chmod 600 ${file}`);
    expect(text).not.toContain('visible-secret-2');
  });

  it('refuses a file another user owns', async () => {
    const dir = await tempDir();
    const file = await secretFile(dir, 'theirs', 'their-secret-3', 0o600);
    const me = process.getuid!();
    // As root the file is given to "nobody"; as anyone else the reader is told it runs as another uid.
    if (me === 0) await chown(file, 65534, 65534);
    const error = await readSecretFile(file, me === 0 ? 0 : me + 1).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretFileError);
    expect((error as SecretFileError).problem).toContain('owned by another user');
  });

  it('refuses a missing file, a folder and a file over the size limit', async () => {
    const dir = await tempDir();
    expect(message(await readOne({ kind: 'file', path: path.join(dir, 'none') }))).toContain('does not exist');
    await chmod(dir, 0o700);
    expect(message(await readOne({ kind: 'file', path: dir }))).toContain('not a regular file');
    const big = await secretFile(dir, 'big', 'x'.repeat(70_000), 0o600);
    expect(message(await readOne({ kind: 'file', path: big }))).toContain('larger than');
  });

  it('reads credential:NAME from a private $CREDENTIALS_DIRECTORY, and says when systemd gave none', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o700);
    await secretFile(dir, 'gh_token', 'credential-secret-4\n', 0o400);
    expect(await readOne({ kind: 'credential', name: 'gh_token' }, { env: { CREDENTIALS_DIRECTORY: dir } })).toBe('credential-secret-4');
    expect(message(await readOne({ kind: 'credential', name: 'gh_token' }))).toContain('$CREDENTIALS_DIRECTORY is not set');
  });
});

describe('command source', () => {
  const node = process.execPath;

  it('runs the program with no shell and strips one trailing newline, or keeps only the first line', async () => {
    const print = (text: string): SecretSource => ({
      kind: 'command',
      argv: [node, '-e', `process.stdout.write(${JSON.stringify(text)})`],
      firstLine: false,
    });
    expect(await readOne(print('cmd-secret-5\n'))).toBe('cmd-secret-5');
    expect(await readOne({ ...print('pass-line-6\nlogin: me\n'), firstLine: true } as SecretSource)).toBe('pass-line-6');
    // A shell would expand this; argv passes it as it is.
    const echo: SecretSource = {
      kind: 'command',
      argv: [node, '-e', 'process.stdout.write(process.argv[1])', '$HOME;x'],
      firstLine: false,
    };
    expect(await readOne(echo)).toBe('$HOME;x');
  });

  const printer: SecretSource = { kind: 'command', argv: [node, printSecret], firstLine: false };

  it('fails a non-zero exit with its stderr tail, scrubbed of known values', async () => {
    const debug: unknown[] = [];
    const env = { PRINT_STDERR: 'vault says: token known-value-77 expired\n', PRINT_EXIT: '3' };
    const scrub = (t: string) => t.replaceAll('known-value-77', '[REDACTED:x]');
    const text = message(await readOne(printer, { env, scrub, logger: { debug: (obj: unknown) => debug.push(obj) } as never }));
    expect(text).toContain('exited with code 3');
    expect(text).toContain('vault says: token [REDACTED:x] expired');
    expect(text).not.toContain('known-value-77');
    expect(JSON.stringify(debug)).toContain('[REDACTED:x]');
    expect(JSON.stringify(debug)).not.toContain('known-value-77');
  });

  it('removes the value it read from its stderr before logging it', async () => {
    const debug: unknown[] = [];
    const env = { PRINT_STDERR: 'read printed-value-8\n', PRINT_STDOUT: 'printed-value-8\n' };
    expect(await readOne(printer, { env, logger: { debug: (obj: unknown) => debug.push(obj) } as never })).toBe('printed-value-8');
    expect(JSON.stringify(debug)).toContain('read [REDACTED]');
    expect(JSON.stringify(debug)).not.toContain('printed-value-8');
  });

  it('ends a program that takes too long, and names a missing one', async () => {
    const slow: SecretSource = { kind: 'command', argv: [node, '-e', 'setTimeout(() => {}, 60000)'], firstLine: false };
    expect(message(await readOne(slow, { timeoutMs: 500 }))).toContain('did not finish within 0.5 s');
    const none: SecretSource = { kind: 'command', argv: ['no-such-program-keyproxy'], firstLine: false };
    expect(message(await readOne(none, { env: { PATH: '/nonexistent' } }))).toContain('"no-such-program-keyproxy" was not found');
    const empty: SecretSource = { kind: 'command', argv: [node, '-e', 'process.stdout.write("\\n")'], firstLine: false };
    expect(message(await readOne(empty))).toContain('empty value');
  });
});

describe('op:// source (fixture op with the documented contract)', () => {
  const ref = 'op://Developer/Stitch/api-key';
  const items = JSON.stringify({ [ref]: 'stitch-key-9', 'op://Developer/Stitch/creds/password': 'stitch-pw-10' });

  it('reads with op read --no-newline <ref>, argv holding only the reference', async () => {
    const log = path.join(await tempDir(), 'argv.log');
    const env = withOp({ OP_FIXTURE_ITEMS: items, OP_FIXTURE_LOG: log });
    expect(await readOne({ kind: 'op', reference: ref }, { env })).toBe('stitch-key-9');
    expect(await readOne({ kind: 'op', reference: 'op://Developer/Stitch/creds/password' }, { env })).toBe('stitch-pw-10');
    expect((await readFile(log, 'utf8')).trim().split('\n')[0]).toBe(JSON.stringify(['read', '--no-newline', ref]));
  });

  it('hands a keychain-kept service-account token to op through its environment only', async () => {
    const log = path.join(await tempDir(), 'argv.log');
    const env = withOp({ OP_FIXTURE_ITEMS: items, OP_FIXTURE_TOKEN: 'ops_token_value_11', OP_FIXTURE_LOG: log });
    let asked = 0;
    const opToken = async () => {
      asked += 1;
      return 'ops_token_value_11';
    };
    const values = await readSources(
      'srv',
      [
        { secret: 'A', source: { kind: 'op', reference: ref } },
        { secret: 'B', source: { kind: 'op', reference: ref } },
      ],
      { env, opToken },
    );
    expect([...values.values()]).toEqual(['stitch-key-9', 'stitch-key-9']);
    expect(asked).toBe(1);
    expect(await readFile(log, 'utf8')).not.toContain('ops_token_value_11');
    const refused = message(await readOne({ kind: 'op', reference: ref }, { env, opToken: async () => null }));
    expect(refused).toContain('op is not signed in');
    expect(refused).toContain('mcp-keyproxy secrets set op-service-account OP_SERVICE_ACCOUNT_TOKEN');
  });

  it('goes on without the token when no keychain answers (op may be signed in another way)', async () => {
    const opToken = () => Promise.reject(new KeyproxyError('KEYCHAIN_UNAVAILABLE', 'no Secret Service'));
    expect(await readOne({ kind: 'op', reference: ref }, { env: withOp({ OP_FIXTURE_ITEMS: items }), opToken })).toBe('stitch-key-9');
  });

  it("turns each of op's errors into one message naming the reference and the fix", async () => {
    const missing = message(
      await readOne({ kind: 'op', reference: 'op://Developer/Nope/field' }, { env: withOp({ OP_FIXTURE_ITEMS: items }) }),
    );
    expect(missing).toContain('op://Developer/Nope/field');
    expect(missing).toContain('no such item');
    expect(message(await readOne({ kind: 'op', reference: ref }, { env: withOp({ OP_FIXTURE_MODE: 'signed-out' }) }))).toContain(
      'op signin',
    );
    expect(message(await readOne({ kind: 'op', reference: ref }, { env: withOp({ OP_FIXTURE_MODE: 'rate-limit' }) }))).toContain(
      'rate limit',
    );
    expect(message(await readOne({ kind: 'op', reference: ref }, { env: withOp({ OP_FIXTURE_MODE: 'down' }) }))).toContain(
      'could not be reached',
    );
    expect(
      message(await readOne({ kind: 'op', reference: ref }, { env: withOp({ OP_FIXTURE_DELAY_MS: '5000' }), timeoutMs: 500 })),
    ).toContain('did not answer within 0.5 s');
    const noOp = message(await readOne({ kind: 'op', reference: ref }, { env: { PATH: '/nonexistent' } }));
    expect(noOp).toContain('"op" was not found');
    expect(noOp).toContain('developer.1password.com');
  });

  it('reads the references again 8 at once by default, never more, when op inject fails', async () => {
    const many = (n: number): SourceRequest[] =>
      Array.from({ length: n }, (_, i) => ({ secret: `S${i}`, source: { kind: 'op', reference: `op://Developer/Item${i}/field` } }));
    const vault = JSON.stringify(
      Object.fromEntries(many(9).map(({ source }, i) => [(source as { reference: string }).reference, `value-${i}-xyz`])),
    );
    // The inject fails, so each reference is read alone. The fixture answers a read only once as many reads run
    // together as the barrier says. With 9 the first read to give up saw 8 running: the ninth could not start before
    // a lane was free.
    const eight = await tempDir();
    const env8 = withOp({ OP_FIXTURE_ITEMS: vault, OP_FIXTURE_INJECT: 'fail', OP_FIXTURE_BARRIER: `${eight}:8` });
    const values = await readSources('srv', many(8), { env: env8 });
    expect([...values.values()]).toEqual(Array.from({ length: 8 }, (_, i) => `value-${i}-xyz`));
    const nine = await tempDir();
    const env = withOp({
      OP_FIXTURE_ITEMS: vault,
      OP_FIXTURE_INJECT: 'fail',
      OP_FIXTURE_BARRIER: `${nine}:9`,
      OP_FIXTURE_BARRIER_MS: '5000',
    });
    const error = await readSources('srv', many(9), { env }).catch((caught: unknown) => caught);
    expect((error as KeyproxyError).message).toContain('only 8 of 9 reads ran at once');
  }, 60_000);

  it('reads many references at once, at most `concurrency` at a time, and reports every failure in one error', async () => {
    const log = path.join(await tempDir(), 'argv.log');
    const many: SourceRequest[] = Array.from({ length: 6 }, (_, i) => ({ secret: `S${i}`, source: { kind: 'op', reference: ref } }));
    const env = withOp({ OP_FIXTURE_ITEMS: items, OP_FIXTURE_LOG: log });
    expect((await readSources('srv', many, { env, concurrency: 3 })).size).toBe(6);
    const two: SourceRequest[] = [
      { secret: 'X', source: { kind: 'op', reference: 'op://V/Gone/f' } },
      { secret: 'Y', source: { kind: 'env', variable: 'UNSET_VAR' } },
    ];
    const error = await readSources('srv', two, { env: withOp() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyproxyError);
    expect((error as KeyproxyError).message).toMatch(/Secret X .*op:\/\/V\/Gone\/f[\s\S]*Secret Y .*env:UNSET_VAR/);
  });

  describe('several references: one op inject', () => {
    const refs = ['op://Dev/A/key', 'op://Dev/B/sec/password', 'op://Ops/C/token', 'op://Ops/D/note', 'op://Ops/E/k'];
    const awkward = [
      'two\nlines\n',
      'quotes " and \' and `back`',
      'braces }} {{ op://Dev/A/key }} ${HOME}',
      '<kp:0123456789abcdef0123456789abcdef:0>marker-like</kp:0123456789abcdef0123456789abcdef:1>',
      'ends with a newline and spaces  \n',
    ];
    const vault = (values: readonly string[] = awkward) => JSON.stringify(Object.fromEntries(refs.map((ref, i) => [ref, values[i]])));
    const asked = (list: readonly string[] = refs): SourceRequest[] =>
      list.map((reference, i) => ({ secret: `S${i}`, source: { kind: 'op', reference } }));
    const calls = async (log: string) =>
      (await readFile(log, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as string[]);

    it('reads N references with one op inject process, the template on stdin and nothing on argv', async () => {
      const log = path.join(await tempDir(), 'argv.log');
      const values = await readSources('srv', asked(), { env: withOp({ OP_FIXTURE_ITEMS: vault(), OP_FIXTURE_LOG: log }) });
      expect([...values.values()]).toEqual(awkward);
      expect(await calls(log)).toEqual([['inject']]);
      const text = await readFile(log, 'utf8');
      for (const ref of refs) expect(text).not.toContain(ref);
    });

    it('gives each reference exactly what op read --no-newline gives it, newlines, quotes, braces and markers kept', async () => {
      const env = withOp({ OP_FIXTURE_ITEMS: vault() });
      const injected = await readSources('srv', asked(), { env });
      for (const [i, ref] of refs.entries()) {
        expect(await readOne({ kind: 'op', reference: ref }, { env })).toBe(awkward[i]);
        expect(injected.get(`S${i}`)).toBe(awkward[i]);
      }
      // A secret asked twice, and a reference beside other sources, get their own values.
      const mixed = await readSources(
        'srv',
        [
          ...asked(),
          { secret: 'AGAIN', source: { kind: 'op', reference: refs[0]! } },
          { secret: 'ENV', source: { kind: 'env', variable: 'X' } },
        ],
        { env: { ...env, X: 'env-value-1' } },
      );
      expect(mixed.get('AGAIN')).toBe(awkward[0]);
      expect(mixed.get('ENV')).toBe('env-value-1');
    });

    it('one bad reference among good ones: the inject fails, each is read alone, the bad one named with its fix', async () => {
      const log = path.join(await tempDir(), 'argv.log');
      const list = [...refs.slice(0, 3), 'op://Dev/Gone/field', ...refs.slice(3)];
      const settled = await readSourcesSettled('srv', asked(list), { env: withOp({ OP_FIXTURE_ITEMS: vault(), OP_FIXTURE_LOG: log }) });
      const got = settled.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message));
      expect(got.filter((_, i) => i !== 3)).toEqual(awkward);
      expect(got[3]).toContain('Secret S3 of server "srv" comes from op://Dev/Gone/field: 1Password has no such item or field');
      expect(got[3]).toContain('"op item get"');
      for (const value of awkward) expect(got[3]).not.toContain(value.trim());
      const logged = await calls(log);
      expect(logged[0]).toEqual(['inject']);
      expect(
        logged
          .slice(1)
          .map((argv) => argv.at(-1))
          .sort(),
      ).toEqual([...list].sort());
    });

    it('output that is not the template filled in, or an inject error, is not trusted: each is read alone', async () => {
      for (const mode of ['truncate', 'fail']) {
        const log = path.join(await tempDir(), 'argv.log');
        const debug: Array<{ reason?: string }> = [];
        const env = withOp({ OP_FIXTURE_ITEMS: vault(), OP_FIXTURE_LOG: log, OP_FIXTURE_INJECT: mode });
        const values = await readSources('srv', asked(), {
          env,
          logger: { debug: (obj: { reason?: string }) => debug.push(obj) } as never,
        });
        expect([...values.values()]).toEqual(awkward);
        expect((await calls(log)).map((argv) => argv[0])).toEqual(['inject', ...refs.map(() => 'read')]);
        expect(debug.map((entry) => entry.reason).join()).toContain(mode === 'truncate' ? 'not the template filled in' : 'op failed');
        expect(JSON.stringify(debug)).not.toContain('two\\nlines');
      }
    });

    it('an inject that does not answer in time fails every reference at once: no op read waits as long again', async () => {
      const log = path.join(await tempDir(), 'argv.log');
      const env = withOp({ OP_FIXTURE_ITEMS: vault(), OP_FIXTURE_LOG: log, OP_FIXTURE_DELAY_MS: '5000' });
      const settled = await readSourcesSettled('srv', asked(), { env, timeoutMs: 500 });
      for (const [i, result] of settled.entries()) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason.message).toContain(
          `Secret S${i} of server "srv" comes from ${refs[i]}: op did not answer within 0.5 s`,
        );
      }
      // One wait, not two: a read of each after the inject would wait as long again.
      expect(await calls(log), 'one inject, no read after it').toEqual([['inject']]);
    });

    it('takes apart only the template it made: markers in order, each once, no nonce in a value', () => {
      const template = injectTemplate(['op://V/a/b', 'op://V/c/d']);
      const filled = (one: string, two: string) => template.text.replace('{{ op://V/a/b }}', one).replace('{{ op://V/c/d }}', two);
      expect(template.split(filled('first\n', '{second}'))).toEqual(['first\n', '{second}']);
      const [open0, rest] = template.text.split('{{ op://V/a/b }}') as [string, string];
      const close1 = rest.slice(rest.indexOf('}}') + 2);
      expect(template.split(`${filled('x', 'y')}\n`)).toBeUndefined();
      expect(template.split(filled('x', 'y').slice(0, -1))).toBeUndefined();
      expect(template.split(filled(`x${open0}`, 'y'))).toBeUndefined();
      expect(template.split(`${rest.replace('{{ op://V/c/d }}', 'y')}${open0}x${close1}`)).toBeUndefined();
      expect(injectTemplate(['op://V/a/b']).text).not.toBe(injectTemplate(['op://V/a/b']).text);
    });
  });
});
