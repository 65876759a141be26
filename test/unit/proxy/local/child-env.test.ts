import { describe, expect, it } from 'vitest';
import { buildChildEnv } from '../../../../src/proxy/local/child-env.js';

describe('buildChildEnv', () => {
  it('passes only allowlisted parent variables, then the server env on top', () => {
    const env = buildChildEnv(
      { PATH: '/usr/bin', HOME: '/home/u', AWS_SECRET_ACCESS_KEY: 'parent-secret', DBUS_SESSION_BUS_ADDRESS: 'x' },
      { API_TOKEN: 'injected', PATH: '/custom' },
    );
    expect(env).toEqual({ PATH: '/custom', HOME: '/home/u', API_TOKEN: 'injected' });
  });

  it('drops exported shell functions', () => {
    expect(buildChildEnv({ SHELL: '() { :; }; echo pwned' }, {})).toEqual({});
  });
});
