import { describe, expect, it } from 'vitest';
import { KeyproxyError } from '../../../../src/errors.js';
import { CHAIN_VARIABLE, enterProxyChain, MAX_NESTED_PROXIES } from '../../../../src/proxy/core/proxy-chain.js';
import { buildChildEnv } from '../../../../src/proxy/local/child-env.js';

describe('the proxy chain', () => {
  it('hands each server the chain with this proxy added, through the child environment allowlist', () => {
    const first = enterProxyChain({ HOME: '/h' }, '/c/proxy.config.json#a');
    const second = enterProxyChain(buildChildEnv(first, {}), '/c/proxy.config.json#b');
    expect(JSON.parse(second[CHAIN_VARIABLE] ?? '')).toEqual(['/c/proxy.config.json#a', '/c/proxy.config.json#b']);
    expect(second.HOME).toBe('/h');
  });

  it('refuses a proxy that is already in its chain, naming the loop', () => {
    const env = enterProxyChain(enterProxyChain({}, '/c.json#*'), '/c.json#a');
    let caught: unknown;
    try {
      enterProxyChain(env, '/c.json#a');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KeyproxyError);
    expect((caught as KeyproxyError).exitCode).toBe(78);
    expect((caught as KeyproxyError).message).toContain('/c.json (every server) → /c.json#a → /c.json#a');
    expect((caught as KeyproxyError).message).toContain('would run itself again');
  });

  it('refuses nesting past the limit even when every name is new', () => {
    let env: NodeJS.ProcessEnv = {};
    for (let i = 0; i < MAX_NESTED_PROXIES; i++) env = enterProxyChain(env, `inline#s${i}`);
    expect(() => enterProxyChain(env, 'inline#another')).toThrow(/already nested/);
  });

  it('ignores a chain it cannot read instead of failing', () => {
    expect(JSON.parse(enterProxyChain({ [CHAIN_VARIABLE]: 'not json' }, 'x#y')[CHAIN_VARIABLE] ?? '')).toEqual(['x#y']);
  });
});
