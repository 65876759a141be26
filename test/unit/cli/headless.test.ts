import { describe, expect, it } from 'vitest';
import { isHeadless } from '../../../src/cli/headless.js';

describe('isHeadless', () => {
  it.each([
    [true, {}, true],
    [undefined, { MCP_KEYPROXY_HEADLESS: '1' }, true],
    [undefined, { MCP_BYPASS_SECRET_USE_CONFIRM: 'true' }, true],
    [undefined, { MCP_KEYPROXY_HEADLESS: '0' }, false],
    [undefined, {}, false],
  ])('flag %s with env %j → %s', (flag, env, expected) => {
    expect(isHeadless(flag, env)).toBe(expected);
  });
});
