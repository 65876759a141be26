import { KeyproxyError } from '../errors.js';
import { checkServer } from './checks.js';
import { normalizeClientEntries } from './client-entries.js';
import { lintServerCredentials } from './credential-lint.js';
import { formatFinding, type ConfigFinding } from './findings.js';
import { jsonErrorOffset, jsonKeyProblems, lineColumn, type JsonKeyProblem } from './json-position.js';
import { blankJsoncSyntax } from './jsonc.js';
import { SERVER_NAME_RULE } from './names.js';
import { proxyConfigSchema, type SourceCacheConfig } from './schema.js';
import { withSourcedEnv } from './sourced-env.js';
import type { LoadedConfig } from './types.js';
import { zodIssuesToFindings } from './zod-issues.js';

export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    // V8 quotes a slice of the source in some messages; that slice may hold a credential, so keep only the reason.
    const reason = raw
      .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '')
      .slice(0, 80);
    const offset = jsonErrorOffset(text);
    const at = offset === undefined ? undefined : lineColumn(text, offset);
    const where = at ? `:${at.line}:${at.column}` : '';
    throw new KeyproxyError('CONFIG_INVALID', `${file}${where}: not valid JSON (${reason}). Fix the syntax.`);
  }
}

/** A finding for a key JSON.parse would not keep as written: read on, the config would silently lose an entry. */
function keyFinding(text: string, problem: JsonKeyProblem): ConfigFinding {
  const { path, kind } = problem;
  const key = JSON.stringify(String(path.at(-1)));
  const line = lineColumn(text, problem.offset).line;
  const server = path.length === 2 && (path[0] === 'servers' || path[0] === 'mcpServers');
  if (kind === 'proto') {
    return {
      path,
      message: server
        ? `"__proto__" cannot be a server name: it would be dropped when the config is read (line ${line}). Rename the server: ${SERVER_NAME_RULE}`
        : `the key "__proto__" would be dropped when the config is read (line ${line}); rename or remove it`,
    };
  }
  const firstLine = lineColumn(text, problem.firstOffset ?? 0).line;
  const lines = firstLine === line ? `line ${line}` : `lines ${firstLine} and ${line}`;
  return {
    path,
    message: server
      ? `server ${key} is defined twice (${lines}); only the last would be used and the other ignored. Remove one, or give it another name`
      : `${key} appears twice in the same object (${lines}); only the last would be used. Remove one`,
  };
}

/** A server with the top-level "cache" when it has none of its own (one place decides: each server carries its cache). */
function withCache<S extends { cache?: SourceCacheConfig }>(server: S, cache: SourceCacheConfig | undefined): S {
  return server.cache !== undefined || cache === undefined ? server : { ...server, cache };
}

export function invalid(file: string, findings: readonly ConfigFinding[]): KeyproxyError {
  const lines = findings.map((finding) => formatFinding(file, finding)).join('\n');
  const hint =
    'Fix the entries above. Point "$schema" at the schema shipped with mcp-keyproxy (schema/proxy.config.schema.json) to get these checks in your editor.';
  return new KeyproxyError('CONFIG_INVALID', `invalid config ${file}:\n${lines}\n${hint}`);
}

/**
 * Validates the text of a config file; `file` is only used in messages and `LoadedConfig.path`. Comments and
 * trailing commas are allowed (VS Code's files have them), and so is a client's file as it is (see
 * `normalizeClientEntries`).
 */
export function parseConfig(text: string, file: string): LoadedConfig {
  const source = blankJsoncSyntax(text.replace(/^\uFEFF/, ''));
  const input = parseJson(source, file);
  const keyFindings = jsonKeyProblems(source).map((problem) => keyFinding(source, problem));
  if (keyFindings.length > 0) throw invalid(file, keyFindings);
  return validateConfig(input, file);
}

/** Validates a config given as a parsed value (a file's JSON, or the server built by inline `run`). */
export function validateConfig(given: unknown, file: string): LoadedConfig {
  const { input, warnings: clientWarnings } = normalizeClientEntries(given);
  const parsed = proxyConfigSchema.safeParse(input);
  if (!parsed.success) throw invalid(file, zodIssuesToFindings(parsed.error.issues, input));
  const { servers, mcpServers, tool_separator: toolSeparator, cache } = parsed.data;
  if (servers && mcpServers) {
    throw invalid(file, [
      { path: ['mcpServers'], message: 'both "servers" and "mcpServers" are present; keep one (they are alternatives, not merged)' },
    ]);
  }
  const key = servers ? 'servers' : 'mcpServers';
  const declared = servers ?? mcpServers;
  const entries: typeof declared =
    declared && Object.fromEntries(Object.entries(declared).map(([name, server]) => [name, withSourcedEnv(withCache(server, cache))]));
  if (!entries) {
    throw invalid(file, [
      { path: [], message: 'no servers: add "servers": { "<name>": { "command": "…", "args": […] } } ("mcpServers" is accepted too)' },
    ]);
  }
  const errors: ConfigFinding[] = [];
  const warnings: ConfigFinding[] = [...clientWarnings];
  for (const [name, server] of Object.entries(entries)) {
    const result = checkServer([key, name], name, server);
    errors.push(...result.errors);
    warnings.push(...result.warnings, ...lintServerCredentials([key, name], name, server));
  }
  if (errors.length > 0) throw invalid(file, errors);
  return { path: file, servers: entries, toolSeparator, warnings: warnings.map((finding) => formatFinding(file, finding)) };
}
