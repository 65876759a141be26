import { describe, expect, it } from 'vitest';
import { localServerSchema } from '../../../../src/config/schema.js';
import { planCredentials } from '../../../../src/proxy/downstream/credential-plan.js';
import { buildChildEnv, childEnvironment } from '../../../../src/proxy/local/child-env.js';

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

  it('resolves the server env with its secrets and leaves out entries of absent optional secrets', () => {
    const server = localServerSchema.parse({
      command: 'srv',
      env: { TOKEN: 'Bearer ${secret:token}', EXTRA: '${secret:extra}', HOME_COPY: '${env:HOME}' },
      secrets: { token: {}, extra: { required: false } },
    });
    const plan = planCredentials(server, new Map([['token', 'stored-token-value']]));
    expect(childEnvironment(server, plan, { HOME: '/home/u', SECRET_IN_SHELL: 'x' })).toEqual({
      HOME: '/home/u',
      TOKEN: 'Bearer stored-token-value',
      HOME_COPY: '/home/u',
    });
  });

  it("passes the network variables (proxies, CA certificates, SSH agent) and the server's own inherit_env, nothing else", () => {
    const server = localServerSchema.parse({ command: 'srv', inherit_env: ['JAVA_HOME'] });
    const parent = {
      HTTPS_PROXY: 'http://proxy:3128',
      NO_PROXY: 'localhost',
      NODE_EXTRA_CA_CERTS: '/etc/ca.pem',
      SSH_AUTH_SOCK: '/run/agent',
      JAVA_HOME: '/opt/java',
      GITHUB_TOKEN: 'not-for-this-server',
    };
    expect(childEnvironment(server, planCredentials(server, new Map()), parent)).toEqual({
      HTTPS_PROXY: 'http://proxy:3128',
      NO_PROXY: 'localhost',
      NODE_EXTRA_CA_CERTS: '/etc/ca.pem',
      SSH_AUTH_SOCK: '/run/agent',
      JAVA_HOME: '/opt/java',
    });
  });
});
