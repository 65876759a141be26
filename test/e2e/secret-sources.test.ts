import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingEnvirons, opFixtureDir, useE2eDir } from '../helpers/e2e-dir.js';
import { connectThroughProxy, everythingServer, inheritedEnv, runBin, writeConfig } from '../helpers/proxy.js';

const run = promisify(execFile);
const dir = useE2eDir('sources-e2e');
/** The environment of a throwaway `pass` store with its own gpg key (no passphrase). */
let passEnv: Record<string, string>;

beforeAll(async () => {
  passEnv = { GNUPGHOME: join(dir.path, 'gnupg'), PASSWORD_STORE_DIR: join(dir.path, 'store') };
  const env = { ...inheritedEnv(), ...passEnv };
  await run('mkdir', ['-m', '700', passEnv.GNUPGHOME!]);
  await run(
    'gpg',
    ['--batch', '--passphrase', '', '--quick-gen-key', 'keyproxy test <keyproxy-test@example.invalid>', 'default', 'default', 'never'],
    {
      env,
    },
  );
  await run('pass', ['init', 'keyproxy-test@example.invalid'], { env });
}, 120_000);

afterAll(async () => {
  await run('gpgconf', ['--kill', 'gpg-agent'], { env: { ...inheritedEnv(), ...passEnv } }).catch(() => undefined);
});

/** Stores `value` (and a second line, as pass users do) at `path` in the throwaway pass store. */
async function passInsert(path: string, value: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile('pass', ['insert', '-m', path], { env: { ...inheritedEnv(), ...passEnv } }, (error) =>
      error ? reject(error) : resolve(),
    );
    child.stdin?.end(`${value}\nlogin: someone\n`);
  });
}

/** Calls get-env through the proxy: the text the client sees, and the child's real environment. */
async function getEnvThrough(
  config: string,
  server: string,
  env: Record<string, string>,
): Promise<{ seen: string; environ: string; stderr: string }> {
  const { client, proxyPid, stderr } = await connectThroughProxy({ config, server, env, extraArgs: ['--log-level', 'debug'] });
  try {
    const result = await client.callTool({ name: 'get-env', arguments: {} });
    const [environ] = await everythingEnvirons(proxyPid);
    if (environ === undefined) throw new Error('no server-everything child found');
    return { seen: JSON.stringify(result.content), environ, stderr: stderr() };
  } finally {
    await client.close();
  }
}

describe('secret sources through the built proxy', () => {
  it('injects a value from `pass show` (first line) into the child and shows the client only its redaction', async () => {
    const value = `pass-${randomBytes(12).toString('hex')}`;
    await passInsert('mcp/github', value);
    const config = await writeConfig({
      gh: everythingServer({}, { GITHUB_TOKEN: { from: { command: ['pass', 'show', 'mcp/github'], first_line: true } } }),
    });
    const { seen, environ, stderr } = await getEnvThrough(config, 'gh', passEnv);
    expect(environ).toContain(`GITHUB_TOKEN=${value} `);
    expect(seen).toContain('[REDACTED:gh/GITHUB_TOKEN]');
    expect(seen).not.toContain(value);
    expect(stderr).not.toContain(value);
  }, 60_000);

  it('runs with no Secret Service at all when every secret comes from env or a 0600 file', async () => {
    const fromEnv = `env-${randomBytes(12).toString('hex')}`;
    const fromFile = `file-${randomBytes(12).toString('hex')}`;
    const file = join(dir.path, 'db_password');
    await writeFile(file, `${fromFile}\n`, { mode: 0o600 });
    const config = await writeConfig({
      box: everythingServer({ DB: '${secret:DB_PASSWORD}' }, { CI_TOKEN: 'env:KP_TEST_CI_TOKEN', DB_PASSWORD: { from: `file:${file}` } }),
    });
    // A container: no session bus to find, so no Secret Service could answer.
    const noBus = {
      KP_TEST_CI_TOKEN: fromEnv,
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
      XDG_RUNTIME_DIR: join(dir.path, 'no-runtime'),
    };
    const { seen, environ } = await getEnvThrough(config, 'box', noBus);
    expect(environ).toContain(`CI_TOKEN=${fromEnv} `);
    expect(environ).toContain(`DB=${fromFile} `);
    expect(seen).toContain('[REDACTED:box/CI_TOKEN]');
    expect(seen).toContain('[REDACTED:box/DB_PASSWORD]');
    expect(seen).not.toContain(fromEnv);
    expect(seen).not.toContain(fromFile);

    const doctor = await runBin(['doctor', '--json', '--config', config], { env: { ...inheritedEnv(), ...noBus } });
    const rows = (JSON.parse(doctor.stdout) as { checks: { check: string; secret?: string; status: string; message: string }[] }).checks;
    expect(rows.find((row) => row.check === 'secret' && row.secret === 'CI_TOKEN')).toMatchObject({
      status: 'ok',
      message: 'box: secret CI_TOKEN comes from env:KP_TEST_CI_TOKEN (read at start)',
    });
    expect(doctor.stdout).not.toContain(fromEnv);

    // The same environment really has no Secret Service: a server that also keeps a secret in the keychain says so.
    const mixed = await writeConfig({
      mixed: everythingServer({ K: '${secret:K}' }, { CI_TOKEN: 'env:KP_TEST_CI_TOKEN', K: {} }),
    });
    const failed = await runBin(['run', 'mixed', '--config', mixed, '--headless'], { env: { ...inheritedEnv(), ...noBus } });
    expect(failed.code).toBe(69);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('Server "mixed" keeps K in the keychain');
  }, 60_000);

  it('serves several sourced servers behind one entry with no Secret Service', async () => {
    const one = `one-${randomBytes(12).toString('hex')}`;
    const two = `two-${randomBytes(12).toString('hex')}`;
    const config = await writeConfig({
      first: everythingServer({}, { FIRST_TOKEN: 'env:KP_TEST_FIRST' }),
      second: everythingServer({}, { SECOND_TOKEN: 'env:KP_TEST_SECOND' }),
    });
    const env = {
      KP_TEST_FIRST: one,
      KP_TEST_SECOND: two,
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
      XDG_RUNTIME_DIR: join(dir.path, 'no-runtime'),
    };
    const { client, proxyPid } = await connectThroughProxy({ config, env });
    try {
      const seen = JSON.stringify((await client.callTool({ name: 'first__get-env', arguments: {} })).content);
      expect(seen).toContain('[REDACTED:first/FIRST_TOKEN]');
      expect(seen).not.toContain(one);
      // Each value reaches only its own server.
      expect(seen).not.toContain('SECOND_TOKEN');
      const environs = await everythingEnvirons(proxyPid);
      expect(environs.filter((text) => text.includes(`FIRST_TOKEN=${one} `))).toHaveLength(1);
      expect(environs.filter((text) => text.includes(`SECOND_TOKEN=${two} `))).toHaveLength(1);
      expect(environs.filter((text) => text.includes(one) && text.includes(two))).toHaveLength(0);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('reads credential:NAME from a private $CREDENTIALS_DIRECTORY, as systemd hands it to a service', async () => {
    const value = `cred-${randomBytes(12).toString('hex')}`;
    const credentials = join(dir.path, 'credentials');
    await run('mkdir', ['-m', '700', credentials]);
    await writeFile(join(credentials, 'api_key'), value, { mode: 0o400 });
    const config = await writeConfig({ svc: everythingServer({}, { API_KEY: 'credential:api_key' }) });
    const { seen, environ } = await getEnvThrough(config, 'svc', { CREDENTIALS_DIRECTORY: credentials });
    expect(environ).toContain(`API_KEY=${value} `);
    expect(seen).toContain('[REDACTED:svc/API_KEY]');
    expect(seen).not.toContain(value);
  }, 60_000);

  it('hands op the service-account token kept in the keychain, through its environment only', async () => {
    const token = `ops_${randomBytes(16).toString('hex')}`;
    const value = `op-${randomBytes(12).toString('hex')}`;
    const ref = 'op://Agents/Deploy/token';
    // A single reference is read with `op read`, two or more with one `op inject`: both get the token the same way.
    const value2 = `op-${randomBytes(12).toString('hex')}`;
    const ref2 = 'op://Agents/Deploy/signing-key';
    // Its own credential profile: vault-cache.test.ts, which may run beside it, keeps another token in the default one.
    const profile = { MCP_KEYPROXY_PROFILE: 'sources-e2e' };
    const set = await runBin(['secrets', 'set', 'op-service-account', 'OP_SERVICE_ACCOUNT_TOKEN', '--new-server'], {
      input: `${token}\n`,
      env: { ...process.env, ...profile },
    });
    expect(set.code).toBe(0);
    try {
      const config = await writeConfig({
        agent: everythingServer({}, { DEPLOY_TOKEN: ref }),
        pair: everythingServer({}, { DEPLOY_TOKEN: ref, SIGNING_KEY: ref2 }),
      });
      const argvLog = join(dir.path, 'op-argv.log');
      const { PATH, ...rest } = inheritedEnv();
      delete rest.OP_SERVICE_ACCOUNT_TOKEN;
      const opEnv = {
        PATH: `${opFixtureDir}:${PATH ?? ''}`,
        OP_FIXTURE_TOKEN: token,
        OP_FIXTURE_ITEMS: JSON.stringify({ [ref]: value, [ref2]: value2 }),
        OP_FIXTURE_LOG: argvLog,
        ...profile,
      };
      const { seen, environ, stderr } = await getEnvThrough(config, 'agent', opEnv);
      expect(environ).toContain(`DEPLOY_TOKEN=${value} `);
      expect(environ).not.toContain(token);
      expect(seen).not.toContain(value);
      expect(stderr).not.toContain(token);
      const readLine = JSON.stringify(['read', '--no-newline', ref]);
      // A change stamp seen after the start (the `secrets set` above) may make the proxy read its sources once more.
      expect(new Set((await readFile(argvLog, 'utf8')).trim().split('\n'))).toEqual(new Set([readLine]));

      const pair = await getEnvThrough(config, 'pair', opEnv);
      expect(pair.environ).toContain(`DEPLOY_TOKEN=${value} `);
      expect(pair.environ).toContain(`SIGNING_KEY=${value2} `);
      expect(pair.stderr).not.toContain(token);
      // The template (references) went on stdin: argv is only "inject", and never holds the token or ref2.
      const argv = await readFile(argvLog, 'utf8');
      expect(new Set(argv.trim().split('\n'))).toEqual(new Set([readLine, JSON.stringify(['inject'])]));
      expect(argv).not.toContain(ref2);
      expect(argv).not.toContain(token);
    } finally {
      for (const server of ['op-service-account', 'agent', 'pair']) {
        await runBin(['secrets', 'clear', server, '--yes'], { env: { ...process.env, ...profile } });
      }
    }
  }, 60_000);

  it('reads the RFC shorthand "NAME": "op://…" with op (fixture), and refuses a 0644 file before anything reaches stdout', async () => {
    const value = `op-${randomBytes(12).toString('hex')}`;
    const ref = 'op://Developer/Stitch/api-key';
    // "ttl": "0": nothing is cached, so the run with 1Password down below has no value to fall back on.
    const config = await writeConfig({ stitch: { ...everythingServer({}, { STITCH_API_KEY: ref }), cache: { ttl: '0' } } });
    const opEnv = {
      PATH: `${opFixtureDir}:${process.env.PATH ?? ''}`,
      OP_FIXTURE_ITEMS: JSON.stringify({ [ref]: value }),
      OP_SERVICE_ACCOUNT_TOKEN: 'ops_fixture',
    };
    const { seen, environ } = await getEnvThrough(config, 'stitch', opEnv);
    expect(environ).toContain(`STITCH_API_KEY=${value} `);
    expect(seen).toContain('[REDACTED:stitch/STITCH_API_KEY]');
    expect(seen).not.toContain(value);

    const down = await runBin(['run', 'stitch', '--config', config], { env: { ...inheritedEnv(), ...opEnv, OP_FIXTURE_MODE: 'down' } });
    expect(down.code).toBe(78);
    expect(down.stdout).toBe('');
    expect(down.stderr).toContain(ref);
    expect(down.stderr).toContain('could not be reached');

    const open = join(dir.path, 'open_token');
    await writeFile(open, 'open-file-secret-1\n', { mode: 0o644 });
    await chmod(open, 0o644);
    const openConfig = await writeConfig({ loose: everythingServer({}, { TOKEN: `file:${open}` }) });
    const refused = await runBin(['run', 'loose', '--config', openConfig]);
    expect(refused.code).toBe(78);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`chmod 600 ${open}`);
    expect(refused.stderr).not.toContain('open-file-secret-1');
  }, 60_000);
});
