import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { expectKeyproxyError } from './helpers.js';

const FILE = '/config/proxy.config.json';

/** A config of one remote server with these OAuth settings. */
const withAuth = (auth: unknown): string => JSON.stringify({ servers: { api: { url: 'https://mcp.example.com/mcp', auth } } });

const parse = (auth: unknown) => parseConfig(withAuth(auth), FILE);
const refused = (auth: unknown) => expectKeyproxyError(() => parse(auth), 'CONFIG_INVALID');

describe('OAuth settings: errors', () => {
  it('names the setting that is wrong inside an "auth" object, not the server', async () => {
    expect((await refused({ grant: 'implicit' })).message).toContain('servers.api.auth.grant: Invalid option');
    expect((await refused('oauth2')).message).toContain('servers.api.auth: use "oauth" or an object of OAuth settings');
  });
});
