import { describe, expect, it } from 'vitest';
import { closestName } from '../../../src/config/closest-name.js';
import { expandHome } from '../../../src/config/paths.js';

describe('closestName', () => {
  const known = ['github', 'slack', 'postgres-prod', 'postgres-dev'];

  it('finds a typo: a letter missing, swapped or changed, or another case', () => {
    expect(closestName('githb', known)).toBe('github');
    expect(closestName('gihtub', known)).toBe('github');
    expect(closestName('GitHub', known)).toBe('github');
    expect(closestName('postgres-prd', known)).toBe('postgres-prod');
  });

  it('suggests nothing for a name far from every known one, or when none is known', () => {
    expect(closestName('zzzzzzzz', known)).toBeUndefined();
    expect(closestName('jira', known)).toBeUndefined();
    expect(closestName('github', [])).toBeUndefined();
  });
});

describe('expandHome', () => {
  it('replaces a leading ~ alone or before a separator, as a shell does, and nothing else', () => {
    expect(expandHome('~', '/home/ann')).toBe('/home/ann');
    expect(expandHome('~/cfg/proxy.json', '/home/ann')).toBe('/home/ann/cfg/proxy.json');
    expect(expandHome('~bob/proxy.json', '/home/ann')).toBe('~bob/proxy.json');
    expect(expandHome('cfg/~/proxy.json', '/home/ann')).toBe('cfg/~/proxy.json');
    expect(expandHome('/etc/proxy.json', '/home/ann')).toBe('/etc/proxy.json');
  });
});
