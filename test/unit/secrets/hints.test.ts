import { describe, expect, it } from 'vitest';
import { secretsSetCommand } from '../../../src/secrets/hints.js';

describe('secretsSetCommand', () => {
  it('names the server and the secret', () => {
    expect(secretsSetCommand('github', 'GITHUB_TOKEN', undefined)).toBe('mcp-keyproxy secrets set github GITHUB_TOKEN');
  });

  it('leaves a placeholder where the message cannot know the server', () => {
    expect(secretsSetCommand(undefined, 'API_KEY', undefined)).toBe('mcp-keyproxy secrets set <server> API_KEY');
  });
});
