import { homedir } from 'node:os';
import { KeyproxyError } from '../errors.js';
import { isSecretName, SECRET_NAME_RULE } from './names.js';
import { expandHome } from './paths.js';
import type { LocalServerConfig, RemoteServerConfig, ServerConfig } from './schema.js';
import { isLocalServer } from './types.js';
import { secretsSetCommand } from '../secrets/hints.js';

/**
 * References inside config strings:
 * - `${secret:NAME}`: a secret of the server, from the keychain;
 * - `${env:VAR}`: a variable of the environment mcp-keyproxy runs in;
 * - `$${` is a literal `${` (so `$${secret:X}` is the text `${secret:X}`); any other `$` is literal.
 */
export type ReferenceKind = 'secret' | 'env';

/** One `${kind:name}` reference. */
export interface Reference {
  kind: ReferenceKind;
  name: string;
}

/** A parsed template: literal text and references, in order. */
export type TemplatePart = { kind: 'literal'; text: string } | Reference;

/** Values a template can refer to; `undefined` means "not available". */
export interface ReferenceLookup {
  secret(name: string): string | undefined;
  env(name: string): string | undefined;
  /** The credential profile the values come from, named in the fix of a missing one. */
  profile?: string;
}

const envVarName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const syntaxHint = 'use ${secret:NAME} or ${env:VAR}, or write $${ for a literal "${"';

function malformed(detail: string): KeyproxyError {
  return new KeyproxyError('CONFIG_INVALID', `malformed reference: ${detail}; ${syntaxHint}`);
}

function parseReference(body: string): Reference {
  const colon = body.indexOf(':');
  // Only names are echoed, never the rest of the body: it might be a pasted credential.
  if (colon < 0) throw malformed('"${…}" without a kind');
  const kind = body.slice(0, colon);
  const name = body.slice(colon + 1);
  if (kind !== 'secret' && kind !== 'env') {
    const shown = /^[A-Za-z]{1,20}$/.test(kind) ? `"${kind}"` : 'this one';
    throw malformed(`unknown kind ${shown} (known: secret, env)`);
  }
  if (name === '') throw malformed(`\${${kind}:} has no name`);
  const valid = kind === 'secret' ? isSecretName(name) : envVarName.test(name);
  if (!valid) {
    const rule = kind === 'secret' ? SECRET_NAME_RULE : 'use letters, digits and "_", not starting with a digit';
    throw malformed(`invalid ${kind} name in \${${kind}:…} (${rule})`);
  }
  return { kind, name };
}

/** Splits a string into literal text and references; throws `CONFIG_INVALID` on a malformed reference. */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    if (template.startsWith('$${', i)) {
      text += '${';
      i += 3;
    } else if (template.startsWith('${', i)) {
      const end = template.indexOf('}', i + 2);
      if (end < 0) throw malformed('"${" without a closing "}"');
      if (text !== '') parts.push({ kind: 'literal', text });
      text = '';
      parts.push(parseReference(template.slice(i + 2, end)));
      i = end + 1;
    } else {
      text += template[i];
      i += 1;
    }
  }
  if (text !== '') parts.push({ kind: 'literal', text });
  return parts;
}

/** The references in a string, in order of appearance (duplicates kept). */
export function findReferences(template: string): Reference[] {
  return parseTemplate(template).filter((part): part is Reference => part.kind !== 'literal');
}

/** The strings of a server that may carry `${secret:…}` references: env values, or header values and url. */
function secretCarryingValues(server: ServerConfig): string[] {
  if (isLocalServer(server)) return Object.values(server.env);
  const auth = typeof server.auth === 'object' ? server.auth : undefined;
  const clientCredentials = [auth?.client_secret, auth?.private_key].filter((value): value is string => value !== undefined);
  return [server.url, ...Object.values(server.headers), ...clientCredentials];
}

/**
 * Names of the secrets a server's env (local) or headers, url and OAuth client secret or private key (remote) refer
 * to, without duplicates.
 */
export function referencedSecretNames(server: ServerConfig): string[] {
  const names = new Set<string>();
  for (const value of secretCarryingValues(server)) {
    for (const ref of findReferences(value)) if (ref.kind === 'secret') names.add(ref.name);
  }
  return [...names];
}

/** Replaces every reference; a missing secret throws `SECRET_MISSING`, a missing env variable `CONFIG_INVALID`. */
export function resolveTemplate(template: string, lookup: ReferenceLookup): string {
  let out = '';
  for (const part of parseTemplate(template)) {
    if (part.kind === 'literal') {
      out += part.text;
    } else if (part.kind === 'secret') {
      const value = lookup.secret(part.name);
      if (value === undefined) {
        throw new KeyproxyError(
          'SECRET_MISSING',
          `secret "${part.name}" is referenced but has no value; store it with \`${secretsSetCommand(undefined, part.name, lookup.profile)}\``,
        );
      }
      out += value;
    } else {
      const value = lookup.env(part.name);
      if (value === undefined) {
        throw new KeyproxyError(
          'CONFIG_INVALID',
          `environment variable "${part.name}" (used as \${env:${part.name}}) is not set; set it where mcp-keyproxy is launched (e.g. the "env" of its MCP client entry) or remove the reference`,
        );
      }
      out += value;
    }
  }
  return out;
}

function lookupFrom(secrets: ReadonlyMap<string, string>, parentEnv: NodeJS.ProcessEnv, profile?: string): ReferenceLookup {
  return { secret: (name) => secrets.get(name), env: (name) => parentEnv[name], profile };
}

function mapDefined(value: string | undefined, map: (value: string) => string): string | undefined {
  return value === undefined ? undefined : map(value);
}

function resolveField(field: string, template: string, lookup: ReferenceLookup): string {
  try {
    return resolveTemplate(template, lookup);
  } catch (error) {
    if (error instanceof KeyproxyError) throw new KeyproxyError(error.code, `${field}: ${error.message}`, { cause: error });
    throw error;
  }
}

function resolveRecord(field: string, record: Record<string, string>, lookup: ReferenceLookup): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, resolveField(`${field}.${key}`, value, lookup)]));
}

/** The server's own `env` with every reference resolved (not merged with the parent environment). */
export function resolveServerEnv(
  server: LocalServerConfig,
  secrets: ReadonlyMap<string, string>,
  parentEnv: NodeJS.ProcessEnv,
  profile?: string,
): Record<string, string> {
  return resolveRecord('env', server.env, lookupFrom(secrets, parentEnv, profile));
}

/**
 * `command`, `args` and `cwd` with `${env:VAR}` resolved (secrets never reach argv: the loader refuses them), and a
 * leading `~` of `cwd` expanded.
 */
export function resolveServerCommand(
  server: LocalServerConfig,
  parentEnv: NodeJS.ProcessEnv,
): { command: string; args: string[]; cwd: string | undefined } {
  const lookup = lookupFrom(new Map(), parentEnv);
  return {
    command: resolveField('command', server.command, lookup),
    args: server.args.map((arg, index) => resolveField(`args[${index}]`, arg, lookup)),
    // A leading ~ is the home folder, as in a shell: nothing expanded it on its way from the JSON file.
    cwd: server.cwd === undefined ? undefined : expandHome(resolveField('cwd', server.cwd, lookup), parentEnv.HOME || homedir()),
  };
}

/** A remote server's `url` (secrets percent-encoded) and `headers` with every reference resolved. */
export function resolveRemoteServer(
  server: RemoteServerConfig,
  secrets: ReadonlyMap<string, string>,
  parentEnv: NodeJS.ProcessEnv,
  profile?: string,
): { url: string; headers: Record<string, string> } {
  const lookup = lookupFrom(secrets, parentEnv, profile);
  // A secret in a URL is a query or path value: encode it so "&", "#" or "/" in it cannot change the URL's shape.
  const urlLookup: ReferenceLookup = { ...lookup, secret: (name) => mapDefined(secrets.get(name), encodeURIComponent) };
  return { url: resolveField('url', server.url, urlLookup), headers: resolveRecord('headers', server.headers, lookup) };
}
