import { KeyproxyError } from '../errors.js';
import type { ConfigFinding } from './findings.js';
import { parseTemplate, type Reference } from './references.js';
import type { LocalServerConfig, RemoteServerConfig, ServerConfig } from './schema.js';
import { isLocalServer } from './types.js';
import { isCleartextRemote } from './url-policy.js';

/** What the load-time checks of one server found: errors make the config invalid, warnings are reported. */
export interface ServerCheckResult {
  errors: ConfigFinding[];
  warnings: ConfigFinding[];
}

type Path = readonly PropertyKey[];

/**
 * Checks what the schema cannot express for one server at `path` (e.g. `['servers', 'github']`):
 * reference syntax, declared secrets, no secret in argv, https for remote URLs, no default for password fields.
 */
export function checkServer(path: Path, serverName: string, server: ServerConfig): ServerCheckResult {
  const result: ServerCheckResult = { errors: [], warnings: [] };
  const used = new Set<string>();

  const refsAt = (at: Path, value: string): Reference[] => {
    try {
      return parseTemplate(value).filter((part): part is Reference => part.kind !== 'literal');
    } catch (error) {
      if (!(error instanceof KeyproxyError)) throw error;
      result.errors.push({ path: at, message: error.message });
      return [];
    }
  };

  const checkSecretCarrier = (at: Path, value: string): Reference[] => {
    const refs = refsAt(at, value);
    for (const ref of refs) {
      if (ref.kind !== 'secret') continue;
      used.add(ref.name);
      if (!Object.hasOwn(server.secrets, ref.name)) {
        const declared = Object.keys(server.secrets);
        result.errors.push({
          path: at,
          message:
            `\${secret:${ref.name}} is not declared in this server's "secrets"; add "secrets": { "${ref.name}": { "label": "…" } } ` +
            `or fix the name (declared: ${declared.length > 0 ? declared.join(', ') : 'none'})`,
        });
      }
    }
    return refs;
  };

  if (isLocalServer(server)) checkLocal(path, serverName, server, result, refsAt, checkSecretCarrier);
  else checkRemote(path, server, result, checkSecretCarrier);

  for (const [name, declaration] of Object.entries(server.secrets)) {
    if (declaration.field_type === 'password' && declaration.default !== undefined) {
      result.errors.push({
        path: [...path, 'secrets', name, 'default'],
        message: 'a password field cannot have a default: it would be a credential in the config file; remove "default"',
      });
    }
    if (!used.has(name)) {
      const where = isLocalServer(server) ? '"env"' : '"headers" or "url"';
      result.warnings.push({
        path: [...path, 'secrets', name],
        message: `secret "${name}" is declared but not referenced in ${where}; it would be collected but never injected`,
      });
    }
  }
  return result;
}

function checkLocal(
  path: Path,
  serverName: string,
  server: LocalServerConfig,
  result: ServerCheckResult,
  refsAt: (at: Path, value: string) => Reference[],
  checkSecretCarrier: (at: Path, value: string) => Reference[],
): void {
  const argvLike: Array<[Path, string]> = [
    [[...path, 'command'], server.command],
    ...server.args.map((arg, i): [Path, string] => [[...path, 'args', i], arg]),
  ];
  if (server.cwd !== undefined) argvLike.push([[...path, 'cwd'], server.cwd]);
  for (const [at, value] of argvLike) {
    const secret = refsAt(at, value).find((ref) => ref.kind === 'secret');
    if (secret) {
      result.errors.push({
        path: at,
        message:
          `\${secret:${secret.name}} is refused here: a command line is visible to every local user (ps, /proc/<pid>/cmdline). ` +
          `Pass it through "env" instead, e.g. "env": { "${secret.name}": "\${secret:${secret.name}}" }, and let server "${serverName}" read it from there`,
      });
    }
  }
  for (const [key, value] of Object.entries(server.env)) checkSecretCarrier([...path, 'env', key], value);
}

function checkRemote(
  path: Path,
  server: RemoteServerConfig,
  result: ServerCheckResult,
  checkSecretCarrier: (at: Path, value: string) => Reference[],
): void {
  const urlRefs = checkSecretCarrier([...path, 'url'], server.url);
  if (urlRefs.some((ref) => ref.kind === 'secret')) {
    result.warnings.push({
      path: [...path, 'url'],
      message:
        'a secret in the URL is allowed, but URLs end up in server access logs, proxies and error messages; prefer a header (e.g. "Authorization") if the server accepts one',
    });
  }
  if (isCleartextRemote(new URL(server.url)) && !server.allow_http) {
    result.errors.push({
      path: [...path, 'url'],
      message:
        'plain http:// to a non-loopback host would send credentials in clear text; use https://, or set "allow_http": true if you accept that',
    });
  }
  for (const [key, value] of Object.entries(server.headers)) checkSecretCarrier([...path, 'headers', key], value);
}
