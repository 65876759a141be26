import { KeyproxyError } from '../errors.js';
import { checkServer } from './checks.js';
import { lintServerCredentials } from './credential-lint.js';
import { formatFinding, type ConfigFinding } from './findings.js';
import { jsonErrorOffset } from './json-position.js';
import { proxyConfigSchema } from './schema.js';
import type { LoadedConfig } from './types.js';
import { zodIssuesToFindings } from './zod-issues.js';

function lineColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

function parseJson(text: string, file: string): unknown {
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
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `${file}${where}: not valid JSON (${reason}). Fix the syntax (no comments or trailing commas in JSON).`,
    );
  }
}

function invalid(file: string, findings: readonly ConfigFinding[]): KeyproxyError {
  const lines = findings.map((finding) => formatFinding(file, finding)).join('\n');
  const hint =
    'Fix the entries above. Point "$schema" at the schema shipped with mcp-keyproxy (schema/proxy.config.schema.json) to get these checks in your editor.';
  return new KeyproxyError('CONFIG_INVALID', `invalid config ${file}:\n${lines}\n${hint}`);
}

/** Validates the text of a config file; `file` is only used in messages and `LoadedConfig.path`. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const input = parseJson(text.replace(/^\uFEFF/, ''), file);
  const parsed = proxyConfigSchema.safeParse(input);
  if (!parsed.success) throw invalid(file, zodIssuesToFindings(parsed.error.issues, input));
  const { servers, mcpServers, tool_separator: toolSeparator } = parsed.data;
  if (servers && mcpServers) {
    throw invalid(file, [
      { path: ['mcpServers'], message: 'both "servers" and "mcpServers" are present; keep one (they are alternatives, not merged)' },
    ]);
  }
  const key = servers ? 'servers' : 'mcpServers';
  const entries = servers ?? mcpServers;
  if (!entries) {
    throw invalid(file, [
      { path: [], message: 'no servers: add "servers": { "<name>": { "command": "…", "args": […] } } ("mcpServers" is accepted too)' },
    ]);
  }
  const errors: ConfigFinding[] = [];
  const warnings: ConfigFinding[] = [];
  for (const [name, server] of Object.entries(entries)) {
    const result = checkServer([key, name], name, server);
    errors.push(...result.errors);
    warnings.push(...result.warnings, ...lintServerCredentials([key, name], name, server));
  }
  if (errors.length > 0) throw invalid(file, errors);
  return { path: file, servers: entries, toolSeparator, warnings: warnings.map((finding) => formatFinding(file, finding)) };
}
