import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialTemplate } from '../../../src/dialog/template.js';
import { CONTENT_SECURITY_POLICY, escapeHtml, formPage, STYLE_HASH } from '../../../src/page/page-html.js';
import { fieldProblems, parseForm, requestProblem, tokensMatch } from '../../../src/page/page-request.js';

const template = credentialTemplate(
  'github',
  {
    TOKEN: { label: 'API <token>', field_type: 'password', required: true, help_text: 'From "settings"' },
    REGION: { field_type: 'text', required: false, default: 'eu-west-1' },
  },
  ['TOKEN', 'REGION'],
  'KX7P-M4QZ',
  { clientName: 'Claude <script>' },
);
const origin = 'http://127.0.0.1:41234';

describe('requestProblem', () => {
  it('accepts a GET to its own host and a POST from its own origin', () => {
    expect(requestProblem('GET', { host: '127.0.0.1:41234' }, origin)).toBeUndefined();
    expect(requestProblem('POST', { host: '127.0.0.1:41234', origin }, origin)).toBeUndefined();
  });

  it('refuses another Host (DNS rebinding), a foreign Origin, a POST without one and the opaque origin "null"', () => {
    expect(requestProblem('GET', { host: 'evil.example:41234' }, origin)).toMatch(/127\.0\.0\.1/);
    expect(requestProblem('GET', { host: 'localhost:41234' }, origin)).toBeDefined();
    expect(requestProblem('GET', {}, origin)).toBeDefined();
    expect(requestProblem('POST', { host: '127.0.0.1:41234', origin: 'http://evil.example' }, origin)).toMatch(/not sent from this page/);
    expect(requestProblem('POST', { host: '127.0.0.1:41234', origin: 'http://127.0.0.1:41235' }, origin)).toBeDefined();
    expect(requestProblem('POST', { host: '127.0.0.1:41234' }, origin)).toBeDefined();
    expect(requestProblem('POST', { host: '127.0.0.1:41234', origin: 'null' }, origin)).toBeDefined();
  });
});

describe('tokensMatch', () => {
  it('is true only for the exact token', () => {
    expect(tokensMatch('abc', 'abc')).toBe(true);
    expect(tokensMatch('abd', 'abc')).toBe(false);
    expect(tokensMatch('ab', 'abc')).toBe(false);
    expect(tokensMatch(undefined, 'abc')).toBe(false);
    expect(tokensMatch('', 'abc')).toBe(false);
  });
});

describe('parseForm', () => {
  it('keeps only declared fields, the token and the action', () => {
    const form = parseForm('csrf=t0k&action=save&TOKEN=a%2Bb%20c&OTHER=x', template.fields);
    expect(form).toEqual({ csrf: 't0k', action: 'save', values: { TOKEN: 'a+b c' } });
    expect(parseForm('action=cancel', template.fields)).toEqual({ csrf: undefined, action: 'cancel', values: {} });
  });
});

describe('fieldProblems', () => {
  it('requires required fields, applies min_length, and lets an optional field stay empty', () => {
    expect(fieldProblems(template.fields, {})).toEqual({ TOKEN: 'This field is required.' });
    expect(fieldProblems(template.fields, { TOKEN: 'short', REGION: '' }).TOKEN).toMatch(/at least 8 characters/);
    expect(fieldProblems(template.fields, { TOKEN: 'long-enough-value' })).toEqual({});
  });

  it('counts characters, not UTF-16 units, like the dialog', () => {
    expect(fieldProblems(template.fields, { TOKEN: '🔑🔑🔑🔑🔑🔑🔑🔑' })).toEqual({});
    expect(fieldProblems(template.fields, { TOKEN: '🔑🔑🔑🔑' }).TOKEN).toBeDefined();
  });

  it('refuses what no environment variable can hold, without echoing the value', () => {
    const problems = fieldProblems(template.fields, { TOKEN: 'abc\u0000defghij' });
    expect(problems.TOKEN).toMatch(/NUL byte/);
    expect(problems.TOKEN).not.toContain('abc');
    expect(fieldProblems(template.fields, { TOKEN: 'x'.repeat(32_001) }).TOKEN).toMatch(/bytes/);
  });
});

describe('formPage', () => {
  const html = formPage(template, { action: '/p4th', csrfToken: 'csrf-token', minutes: 10, problems: { TOKEN: 'Too <short>' } });

  it('escapes everything it shows', () => {
    expect(escapeHtml(`<a href="x">'&`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;');
    expect(html).toContain('API &#60;token&#62;');
    expect(html).toContain('Claude &#60;script&#62;');
    expect(html).toContain('From &#34;settings&#34;');
    expect(html).toContain('Too &#60;short&#62;');
    expect(html).not.toContain('<script');
  });

  it('shows the code, the fields with their types and rules, the token, and never a prefilled password', () => {
    expect(html).toContain('<b>KX7P-M4QZ</b>');
    expect(html).toMatch(/<input id="f0" name="TOKEN" type="password"[^>]* required minlength="8"/);
    expect(html).toMatch(/<input id="f1" name="REGION" type="text"[^>]*value="eu-west-1"/);
    expect(html).not.toMatch(/name="REGION"[^>]* required/);
    expect(html).toContain('(optional)');
    expect(html).toContain('<input type="hidden" name="csrf" value="csrf-token">');
    expect(html).toContain('<form method="post" action="/p4th">');
  });

  it('allows its one inline style by hash and nothing else', () => {
    const style = /<style>([\s\S]*)<\/style>/.exec(html)?.[1] ?? '';
    expect(STYLE_HASH).toBe(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("form-action 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src|unsafe|https?:/);
  });
});
