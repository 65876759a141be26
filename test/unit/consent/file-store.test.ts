import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localServerSchema, remoteServerSchema } from '../../../src/config/schema.js';
import { fileConsentStore } from '../../../src/consent/file-store.js';
import { consentGrant } from '../../../src/consent/grant.js';

const base = mkdtempSync(join(tmpdir(), 'keyproxy-consent-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const freshFile = () => join(base, `state-${n++}`, 'consent.json');

const local = localServerSchema.parse({ command: 'npx', args: ['-y', 'srv'], env: { T: '${secret:token}' }, secrets: { token: {} } });
const grant = consentGrant('gh', local, ['token']);

describe('consentGrant', () => {
  it('changes with the command, args, cwd, env, inherited variables, URL, headers and the set of secrets', () => {
    const keys = new Set([
      grant.key,
      consentGrant('gh2', local, ['token']).key,
      consentGrant('gh', local, ['token', 'other']).key,
      consentGrant('gh', { ...local, command: 'node' }, ['token']).key,
      consentGrant('gh', { ...local, args: ['-y', 'srv', '--x'] }, ['token']).key,
      consentGrant('gh', { ...local, cwd: '/tmp' }, ['token']).key,
      consentGrant('gh', { ...local, env: { ...local.env, NODE_OPTIONS: '-r x' } }, ['token']).key,
      consentGrant('gh', { ...local, inherit_env: ['JAVA_HOME'] }, ['token']).key,
    ]);
    expect(keys.size).toBe(8);
    const remote = remoteServerSchema.parse({ url: 'https://a.example/mcp', headers: { A: 'Bearer ${secret:k}' } });
    expect(consentGrant('r', remote, ['k']).key).not.toBe(consentGrant('r', { ...remote, url: 'https://b.example/mcp' }, ['k']).key);
    expect(consentGrant('r', remote, ['k']).key).not.toBe(consentGrant('r', { ...remote, headers: { B: '${secret:k}' } }, ['k']).key);
  });

  it('does not depend on the order of secrets or env entries, and shows what runs', () => {
    const reordered = { ...local, env: { Z: 'z', T: '${secret:token}' } };
    const again = { ...local, env: { T: '${secret:token}', Z: 'z' } };
    expect(consentGrant('gh', reordered, ['b', 'a']).key).toBe(consentGrant('gh', again, ['a', 'b']).key);
    expect(grant).toMatchObject({ server: 'gh', secrets: ['token'], target: 'npx -y srv' });
  });
});

describe('fileConsentStore', () => {
  it('keeps a grant in a 0600 file, lists it, and counts it only for the same key', async () => {
    const file = freshFile();
    const store = fileConsentStore(file, () => new Date('2026-01-02T03:04:05Z'));
    expect(store.allows(grant)).toBe(false);
    await store.remember(grant);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(fileConsentStore(file).allows(grant)).toBe(true);
    expect(fileConsentStore(file).allows(consentGrant('gh', { ...local, args: [] }, ['token']))).toBe(false);
    expect(store.list()).toEqual([{ ...grant, allowed_at: '2026-01-02T03:04:05.000Z' }]);
    expect(readFileSync(file, 'utf8')).not.toContain('secret:token'); // the env is hashed, never copied
  });

  it('keeps the previous file as .bak and never loses a grant written by another store at the same time', async () => {
    const file = freshFile();
    const stores = Array.from({ length: 6 }, () => fileConsentStore(file));
    await Promise.all(stores.map((store, i) => store.remember(consentGrant(`s${i}`, local, ['token']))));
    expect(
      fileConsentStore(file)
        .list()
        .map((g) => g.server)
        .sort(),
    ).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
    expect(existsSync(`${file}.bak`)).toBe(true);
    expect(JSON.parse(readFileSync(`${file}.bak`, 'utf8')).servers).toBeTypeOf('object');
  });

  it('revokes one server or all of them', async () => {
    const file = freshFile();
    const store = fileConsentStore(file);
    await store.remember(grant);
    await store.remember(consentGrant('other', local, ['token']));
    expect(await store.revoke('nope')).toEqual([]);
    expect(await store.revoke('gh')).toEqual(['gh']);
    expect(store.allows(grant)).toBe(false);
    expect(store.list().map((g) => g.server)).toEqual(['other']);
    expect(await store.revoke()).toEqual(['other']);
    expect(store.list()).toEqual([]);
  });

  it('trusts no file that others could have written, and reads a damaged one as empty', async () => {
    const file = freshFile();
    const store = fileConsentStore(file);
    await store.remember(grant);
    chmodSync(file, 0o620);
    expect(store.allows(grant)).toBe(false);
    chmodSync(file, 0o600);
    expect(store.allows(grant)).toBe(true);
    writeFileSync(file, '{"format":1,"servers":', { mode: 0o600 });
    expect(store.allows(grant)).toBe(false);
    await store.remember(grant); // the damaged file is kept as .bak, a good one written
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe('{"format":1,"servers":');
    expect(store.allows(grant)).toBe(true);
  });
});
