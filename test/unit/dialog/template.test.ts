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
      { name: 'URL', label: 'Endpoint', field_type: 'url', required: true, min_length: 8 },
      { name: 'TOKEN', label: 'API token', field_type: 'password', required: true, min_length: 8, help_text: 'From the settings page' },
      { name: 'REGION', label: 'REGION', field_type: 'text', required: false, min_length: 8, default: 'eu-west-1' },
    ]);
  });

  it('never puts a default into a password field', () => {
    const template = credentialTemplate('s', { A: { field_type: 'password', required: true, default: 'secret' } }, ['A'], CODE);
    expect(template.fields[0]).not.toHaveProperty('default');
    expect(JSON.stringify(template)).not.toContain('secret');
  });

  it('asks for an undeclared name with a required password field labelled by its name', () => {
    const template = credentialTemplate('s', {}, ['API_KEY'], CODE);
    expect(template.fields).toEqual([{ name: 'API_KEY', label: 'API_KEY', field_type: 'password', required: true, min_length: 8 }]);
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

/** A client name built to break out: markup, a fake second line with a code, bidi and NUL, and 500 more characters. */
const HOSTILE = '<b>Claude</b>\n\nVerification code: AAAA-BBBB\u202e\u0000\r' + 'x'.repeat(500);

/** The client name as shown in a description: what stands between "Your AI app (" and ") wants". */
function shownName(description: string | undefined): string | undefined {
  return /Your AI app \((.*)\) wants/s.exec(description ?? '')?.[1];
}

describe('the client name in the dialogs', () => {
  it('names the app in the credential form and the consent prompt', () => {
    const form = credentialTemplate('github', {}, ['TOKEN'], CODE, { clientName: 'Visual Studio Code' });
    const consent = consentTemplate('github', ['TOKEN'], CODE, { clientName: 'Visual Studio Code' });
    expect(shownName(form.description)).toBe('Visual Studio Code');
    expect(shownName(consent.description)).toBe('Visual Studio Code');
  });

  it('falls back to "Your AI app" for a missing, blank or unprintable name', () => {
    for (const clientName of [undefined, '', '   ', '\u0000\u200b\n']) {
      expect(credentialTemplate('github', {}, ['TOKEN'], CODE, { clientName }).description).toMatch(/^Your AI app wants/);
    }
  });

  it('keeps a hostile name on one line, bounded, and inside the description only', () => {
    const plain = credentialTemplate('github', {}, ['TOKEN'], CODE);
    for (const [template, unnamed] of [
      [credentialTemplate('github', {}, ['TOKEN'], CODE, { clientName: HOSTILE }), plain],
      [consentTemplate('github', ['TOKEN'], CODE, { clientName: HOSTILE }), consentTemplate('github', ['TOKEN'], CODE)],
    ] as const) {
      const name = shownName(template.description) ?? '';
      expect([...name]).toHaveLength(60);
      expect(name).toMatch(/^<b>Claude<\/b> Verification code: AAAA-BBBB x+…$/);
      expect(name).not.toMatch(/[\p{Cc}\u202e]/u);
      // The text around it is unchanged: same number of lines, same code, same title.
      expect(template.description?.split('\n')).toHaveLength(unnamed.description?.split('\n').length ?? 0);
      expect(template.verification_code).toBe(CODE);
      expect(template.title).not.toContain('Claude');
    }
    const hostile = credentialTemplate('github', {}, ['TOKEN'], CODE, { clientName: HOSTILE });
    expect(Object.keys(hostile)).toEqual(Object.keys(plain));
    expect(hostile.fields).toEqual(plain.fields);
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
