import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redactSecretPatterns, redactSecretPatternsJson, SECRET_PATTERNS } from '../../../src/log/secret-patterns.js';

// Built from pieces so that no scanner mistakes this file for a leak.
const alnum = (length: number) => 'aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz'.repeat(20).slice(0, length);
const upper = (length: number) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.repeat(4).slice(0, length);
const samples: Array<[string, string]> = [
  ['aws-access-key-id', `AKIA${upper(16)}`],
  ['aws-access-key-id', `ASIA${upper(16)}`],
  ['github-token', `ghp_${alnum(36)}`],
  ['github-token', `gho_${alnum(36)}`],
  ['github-token', `ghs_${alnum(36)}`],
  ['github-fine-grained-token', `github_pat_${alnum(22)}_${alnum(59)}`],
  ['slack-token', `xoxb-1234567890-0987654321-${alnum(24)}`],
  ['slack-token', `xoxp-1234567890-${alnum(12)}`],
  ['stripe-live-key', `sk_live_${alnum(24)}`],
  ['google-api-key', `AIza${alnum(35)}`],
  ['openai-key', `sk-proj-${alnum(60)}_${alnum(40)}`],
  ['openai-key', `sk-${alnum(20)}T3BlbkFJ${alnum(20)}`],
  ['anthropic-key', `sk-ant-api03-${alnum(93)}AA`],
];

describe('pattern guard', () => {
  it.each(samples)('redacts a %s and reports it', (id, token) => {
    const { value, hits } = redactSecretPatterns(`the server said: invalid key "${token}", try again`);
    expect(value).toBe(`the server said: invalid key "[REDACTED:pattern/${id}]", try again`);
    expect([...hits]).toEqual([[id, 1]]);
  });

  it('redacts an AWS secret access key next to its variable name, in env and JSON forms', () => {
    const secret = `${alnum(30)}/+${alnum(8)}`;
    for (const text of [
      `AWS_SECRET_ACCESS_KEY=${secret}`,
      `"aws_secret_access_key": "${secret}"`,
      `{\\"AWS_SECRET_ACCESS_KEY\\":\\"${secret}\\"}`,
    ]) {
      const { value, hits } = redactSecretPatterns(text);
      expect(value, text).not.toContain(secret);
      expect(hits.get('aws-secret-access-key')).toBe(1);
    }
    expect(redactSecretPatterns(`AWS_SECRET_ACCESS_KEY=${secret}`).value).toBe(
      'AWS_SECRET_ACCESS_KEY=[REDACTED:pattern/aws-secret-access-key]',
    );
  });

  it('redacts a whole PEM private key block, and the body of a truncated one', () => {
    const body = `${randomBytes(48).toString('base64')}\n${randomBytes(48).toString('base64')}`;
    const pem = `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`;
    expect(redactSecretPatterns(`key:\n${pem}\nok`).value).toBe('key:\n[REDACTED:pattern/private-key]\nok');
    const openssh = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}`;
    const truncated = redactSecretPatterns(`${openssh}`);
    expect(truncated.value).toBe('[REDACTED:pattern/private-key]');
    expect(redactSecretPatterns('-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nabc\n-----END PGP PRIVATE KEY BLOCK-----').value).toBe(
      '[REDACTED:pattern/private-key]',
    );
  });

  it('leaves ordinary text alone: UUIDs, git SHAs, base64 images, hashes, prose, public keys', () => {
    const ordinary = [
      randomUUID(),
      randomBytes(20).toString('hex'),
      randomBytes(32).toString('hex'),
      `data:image/png;base64,${randomBytes(3000).toString('base64')}`,
      'The task-runner uses sk-learn and ghp is not a token; xoxo, AIzawesome.',
      'Use AKIA-style ids like AKIAEXAMPLE in docs', // too short to be a key id
      '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----',
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
      'sk_test_4eC39HqLyjWDarjtT1zdp7dc is a Stripe test key, not live',
      'secret: the AWS_SECRET_ACCESS_KEY variable is documented in the README',
      `commit ${randomBytes(20).toString('hex')} by someone <a@b.c>`,
    ];
    for (const text of ordinary) {
      const { value, hits } = redactSecretPatterns(text);
      expect(value, text).toBe(text);
      expect(hits.size).toBe(0);
    }
  });

  it('does not match a token inside a longer run of token characters (random base64)', () => {
    for (let i = 0; i < 200; i++) {
      const text = randomBytes(2048).toString('base64');
      expect(redactSecretPatterns(text).hits.size).toBe(0);
    }
  });

  it('walks JSON values: same object when clean, redacted copy with counts otherwise', () => {
    const clean = { result: { content: [{ type: 'text', text: 'all good' }] } };
    expect(redactSecretPatternsJson(clean).value).toBe(clean);
    const token = `ghp_${alnum(36)}`;
    const { value, hits } = redactSecretPatternsJson({
      result: { content: [{ type: 'text', text: `${token} ${token}` }], meta: { aws: `AKIA${upper(16)}` } },
    });
    expect(JSON.stringify(value)).not.toContain(token);
    expect(Object.fromEntries(hits)).toEqual({ 'github-token': 2, 'aws-access-key-id': 1 });
  });

  it('covers every declared pattern in the samples', () => {
    const sampled = new Set([...samples.map(([id]) => id), 'aws-secret-access-key', 'private-key']);
    expect(SECRET_PATTERNS.map((pattern) => pattern.id).filter((id) => !sampled.has(id))).toEqual([]);
  });
});
