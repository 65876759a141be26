import { describe, expect, it } from 'vitest';
import { AuditLog, MemoryAuditSink } from '../../../src/audit/audit-log.js';
import { profileFlag, resolveProfile } from '../../../src/config/profile.js';
import type { LocalServerConfig } from '../../../src/config/schema.js';
import { consentGrant } from '../../../src/consent/grant.js';
import { consentTemplate, credentialTemplate } from '../../../src/dialog/template.js';
import { secretsSetCommand } from '../../../src/secrets/hints.js';
import { keychainService } from '../../../src/secrets/store.js';
import { expectKeyproxyError } from './helpers.js';

describe('credential profiles', () => {
  it('takes --profile, then MCP_KEYPROXY_PROFILE, then MCP_CREDENTIAL_PROFILE, else default', () => {
    const env = { MCP_KEYPROXY_PROFILE: 'work', MCP_CREDENTIAL_PROFILE: 'production' };
    expect(resolveProfile('ci', env)).toBe('ci');
    expect(resolveProfile(undefined, env)).toBe('work');
    expect(resolveProfile(undefined, { MCP_CREDENTIAL_PROFILE: 'production' })).toBe('production');
    expect(resolveProfile(undefined, {})).toBe('default');
  });

  it('refuses an invalid name, saying where it came from', async () => {
    const flag = await expectKeyproxyError(() => resolveProfile('../x', {}), 'USAGE');
    expect(flag.message).toContain('"../x" (from --profile) is not a valid profile name');
    const fromEnv = await expectKeyproxyError(() => resolveProfile(undefined, { MCP_CREDENTIAL_PROFILE: 'a/b' }), 'USAGE');
    expect(fromEnv.message).toContain('from MCP_CREDENTIAL_PROFILE');
    await expectKeyproxyError(() => resolveProfile('x'.repeat(33), {}), 'USAGE');
  });

  it('keeps the keychain names of the default profile and gives another profile its own', () => {
    expect(keychainService('github')).toBe('mcp-keyproxy/github');
    expect(keychainService('github', 'default')).toBe('mcp-keyproxy/github');
    expect(keychainService('github', 'work')).toBe('mcp-keyproxy@work/github');
  });

  it('names the profile in the dialog titles, the audit events, the hints, and the consent key', () => {
    expect(credentialTemplate('github', {}, ['TOKEN'], 'ABCD-EFGH', { profile: 'work' }).title).toBe(
      'mcp-keyproxy: credentials for github (profile work)',
    );
    expect(consentTemplate('github', ['TOKEN'], 'ABCD-EFGH', { profile: 'work' }).title).toContain('(profile work)?');
    expect(credentialTemplate('github', {}, ['TOKEN'], 'ABCD-EFGH', { profile: 'default' }).title).toBe(
      'mcp-keyproxy: credentials for github',
    );

    const sink = new MemoryAuditSink();
    new AuditLog(sink, { profile: 'work' }).injection('github', ['TOKEN'], 'env');
    new AuditLog(sink, { profile: 'default' }).injection('github', ['TOKEN'], 'env');
    expect(sink.events.map((event) => event.profile)).toEqual(['work', undefined]);

    expect(secretsSetCommand('github', 'TOKEN', 'work')).toBe('mcp-keyproxy secrets set github TOKEN --profile work');
    expect(secretsSetCommand('github', 'TOKEN', undefined)).toBe('mcp-keyproxy secrets set github TOKEN');
    expect(secretsSetCommand('github', 'TOKEN', 'default')).toBe('mcp-keyproxy secrets set github TOKEN');
    expect(profileFlag('default')).toBe('');

    const server: LocalServerConfig = {
      command: 'gh',
      args: [],
      env: {},
      inherit_env: [],
      secrets: {},
      confirm: true,
      consent: 'auto',
      enabled: true,
      block_secret_patterns: false,
    };
    const plain = consentGrant('github', server, ['TOKEN']).key;
    expect(consentGrant('github', server, ['TOKEN'], 'default').key).toBe(plain);
    expect(consentGrant('github', server, ['TOKEN'], 'work').key).not.toBe(plain);
  });
});
