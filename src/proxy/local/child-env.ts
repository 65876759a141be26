import { resolveServerEnv } from '../../config/references.js';
import type { LocalServerConfig } from '../../config/schema.js';
import { CHAIN_VARIABLE } from '../core/proxy-chain.js';
import { withoutAbsent, type CredentialPlan } from '../downstream/credential-plan.js';

/**
 * Parent variables a downstream server inherits: the SDK's safe list (as sudo does) plus locale, time zone and temp
 * dir (on Windows also PATHEXT and COMSPEC, to find commands).
 * Nothing else from the proxy's environment reaches the child, so a key exported in the user's shell does not
 * leak into every server.
 */
const INHERITED_ENV_VARS: readonly string[] =
  process.platform === 'win32'
    ? [
        'APPDATA',
        'HOMEDRIVE',
        'HOMEPATH',
        'LOCALAPPDATA',
        'PATH',
        'PATHEXT',
        'PROCESSOR_ARCHITECTURE',
        'SYSTEMDRIVE',
        'SYSTEMROOT',
        'TEMP',
        'TMP',
        'USERNAME',
        'USERPROFILE',
        'PROGRAMFILES',
        'COMSPEC',
      ]
    : ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TZ'];

/**
 * Also inherited on every platform: how the user reaches the network (proxies, extra CA certificates) and their SSH
 * agent, which a server cannot work without behind a corporate proxy and which hold no key of the server's own.
 */
const NETWORK_ENV_VARS: readonly string[] = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'SSH_AUTH_SOCK',
];

/**
 * How a local server gets its environment, in one place: the allowlisted parent variables (and the server's own
 * `inherit_env`), then the server's `env` with every `${secret:…}` and `${env:…}` resolved, minus the entries whose
 * optional secret is absent. Pure: no access to `process.env`. `profile` is named in the fix of a missing secret.
 */
export function childEnvironment(
  server: LocalServerConfig,
  plan: CredentialPlan,
  parentEnv: NodeJS.ProcessEnv,
  profile?: string,
): Record<string, string> {
  const serverEnv = resolveServerEnv({ ...server, env: withoutAbsent(server.env, plan.absentOptional) }, plan.values, parentEnv, profile);
  return buildChildEnv(parentEnv, serverEnv, server.inherit_env);
}

/** The allowlisted parent variables (plus `inherited`), then the server's resolved `env` on top. */
export function buildChildEnv(
  parentEnv: Readonly<Record<string, string | undefined>>,
  resolvedServerEnv: Readonly<Record<string, string>>,
  inherited: readonly string[] = [],
): Record<string, string> {
  const env: Record<string, string> = {};
  // The chain of proxies above the server passes too, so a server that is mcp-keyproxy again can tell it loops.
  for (const name of [...INHERITED_ENV_VARS, ...NETWORK_ENV_VARS, CHAIN_VARIABLE, ...inherited]) {
    const value = parentEnv[name];
    // Exported shell functions ("() { …") are a known injection vector (Shellshock); never pass them on.
    if (value === undefined || value.startsWith('()')) continue;
    env[name] = value;
  }
  return Object.assign(env, resolvedServerEnv);
}
