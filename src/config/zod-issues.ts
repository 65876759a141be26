import type { z } from 'zod';
import type { ConfigFinding } from './findings.js';
import { localServerSchema, proxyConfigSchema, remoteServerSchema, secretDeclarationSchema } from './schema.js';

type Issue = z.core.$ZodIssue;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function allowedKeysAt(path: readonly PropertyKey[], node: unknown): string[] | undefined {
  if (path.length === 0) return Object.keys(proxyConfigSchema.shape);
  if (path.length === 2 && isObject(node)) {
    if ('command' in node) return Object.keys(localServerSchema.shape);
    if ('url' in node) return Object.keys(remoteServerSchema.shape);
  }
  if (path.length === 4 && path[2] === 'secrets') return Object.keys(secretDeclarationSchema.shape);
  return undefined;
}

function unionFindings(issue: Extract<Issue, { code: 'invalid_union' }>, input: unknown): ConfigFinding[] {
  const node = valueAt(input, issue.path);
  // A remote server's "auth": "oauth" or an object of OAuth settings (whose own issues are the ones to show).
  if (issue.path.length === 3 && issue.path[2] === 'auth') {
    if (!isObject(node)) return [{ path: issue.path, message: 'use "oauth" or an object of OAuth settings' }];
    const settings = issue.errors[1] ?? [];
    return settings.flatMap((inner) => issueToFindings({ ...inner, path: [...issue.path, ...inner.path] } as Issue, input));
  }
  // The other union of the schema is local-or-remote server: pick the branch the user evidently meant.
  if (!isObject(node)) return [{ path: issue.path, message: 'expected a server object with "command" (local) or "url" (remote)' }];
  const hasCommand = 'command' in node;
  const hasUrl = 'url' in node;
  if (hasCommand && hasUrl) {
    return [{ path: issue.path, message: 'a server has either "command" (local stdio server) or "url" (remote server), not both' }];
  }
  if (!hasCommand && !hasUrl) {
    return [{ path: issue.path, message: 'a server needs "command" (local stdio server) or "url" (remote server)' }];
  }
  const branch = issue.errors[hasCommand ? 0 : 1] ?? [];
  return branch.flatMap((inner) => issueToFindings({ ...inner, path: [...issue.path, ...inner.path] } as Issue, input));
}

function issueToFindings(issue: Issue, input: unknown): ConfigFinding[] {
  switch (issue.code) {
    case 'invalid_union':
      return unionFindings(issue, input);
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(issue.path, valueAt(input, issue.path));
      const hint = allowed ? ` (allowed here: ${allowed.join(', ')})` : '';
      return issue.keys.map((key) => ({ path: [...issue.path, key], message: `unknown key${hint}` }));
    }
    case 'invalid_key':
      return [{ path: issue.path, message: `invalid name: ${issue.issues.map((inner) => inner.message).join('; ')}` }];
    case 'invalid_type':
      if (valueAt(input, issue.path) === undefined) return [{ path: issue.path, message: `missing (expected ${issue.expected})` }];
      return [{ path: issue.path, message: issue.message }];
    default:
      return [{ path: issue.path, message: issue.message }];
  }
}

/** Turns zod issues into findings with readable messages; `input` is the parsed JSON (to see what the user wrote). */
export function zodIssuesToFindings(issues: readonly Issue[], input: unknown): ConfigFinding[] {
  return issues.flatMap((issue) => issueToFindings(issue, input));
}
