import { describe, expect, it } from 'vitest';
import { CONSENT_TIMEOUT_S, FORM_TIMEOUT_S, consentTemplate, credentialTemplate, isConfirmTemplate } from '../../../src/dialog/template.js';

const CODE = 'KX7P-M4QZ';

describe('credentialTemplate', () => {
  const declarations = {
    TOKEN: { label: 'API token', field_type: 'password' as const, required: true, default: 'leak', help_text: 'From the settings page' },
    REGION: { field_type: 'text' as const, required: false, default: 'eu-west-1' },
    URL: { label: 'Endpoint', field_type: 'url' as const, required: true },
  };

  it('builds one field per name, in order, from the declarations', () => {
    const template = credentialTemplate('github', declarations, ['URL', 'TOKEN', 'REGION'], CODE);
    expect(template).toMatchObject({
      title: 'mcp-keyproxy: credentials for github',
      verification_code: CODE,
      timeout_s: FORM_TIMEOUT_S,
    });
    expect(isConfirmTemplate(template)).toBe(false);
    expect(template.fields).toEqual([
      { name: 'URL', label: 'Endpoint', field_type: 'url', required: true },
      { name: 'TOKEN', label: 'API token', field_type: 'password', required: true, help_text: 'From the settings page' },
      { name: 'REGION', label: 'REGION', field_type: 'text', required: false, default: 'eu-west-1' },
    ]);
  });

  it('never puts a default into a password field', () => {
    const template = credentialTemplate('s', { A: { field_type: 'password', required: true, default: 'secret' } }, ['A'], CODE);
    expect(template.fields[0]).not.toHaveProperty('default');
    expect(JSON.stringify(template)).not.toContain('secret');
  });

  it('asks for an undeclared name with a required password field labelled by its name', () => {
    const template = credentialTemplate('s', {}, ['API_KEY'], CODE);
    expect(template.fields).toEqual([{ name: 'API_KEY', label: 'API_KEY', field_type: 'password', required: true }]);
  });

  it('says who asks and that the code must match the AI app', () => {
    const plain = credentialTemplate('github', declarations, ['TOKEN'], CODE);
    expect(plain.description).toContain('"github"');
    expect(plain.description).toContain('Your AI app wants');
    expect(plain.description).toMatch(/verification code .* matches the one shown in your AI app/);
    const named = credentialTemplate('github', declarations, ['TOKEN'], CODE, { clientName: 'claude-ai' });
    expect(named.description).toContain('Your AI app (claude-ai) wants');
  });
});

describe('consentTemplate', () => {
  it('is a confirm template that lists the secret names, never values', () => {
    const template = consentTemplate('github', ['TOKEN', 'USER'], CODE, { clientName: 'Cursor' });
    expect(isConfirmTemplate(template)).toBe(true);
    expect(template).toMatchObject({ mode: 'confirm', verification_code: CODE, timeout_s: CONSENT_TIMEOUT_S });
    expect(template).not.toHaveProperty('fields');
    expect(template.title).toContain('github');
    expect(template.description).toContain('TOKEN, USER');
    expect(template.description).toContain('Cursor');
    expect(template.description).toMatch(/Allow once.*Allow for session.*Deny/s);
  });
});
