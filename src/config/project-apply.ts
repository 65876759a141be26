import { z } from 'zod';
import { checkServer } from './checks.js';
import { closestName } from './closest-name.js';
import { formatFinding, type ConfigFinding } from './findings.js';
import { blankJsoncSyntax } from './jsonc.js';
import { SERVER_NAME_PATTERN, SERVER_NAME_RULE } from './names.js';
import { invalid, parseJson } from './parse.js';
import { localServerSchema, remoteServerSchema, type ServerConfig } from './schema.js';
import { withSourcedEnv } from './sourced-env.js';
import { isLocalServer, type LoadedConfig } from './types.js';
import { zodIssuesToFindings } from './zod-issues.js';

/**
 * A project file (`.mcp-keyproxy.json`) over the user config: loaded only once the file is trusted (see
 * trust.ts), and only then (zod is the heaviest import of the start-up path).
 */

/** What a project says of a server of the user config: on or off, and env variables over the config's. */
const overrideSchema = z
  .object({
    enabled: z.boolean().optional().describe('Whether `mcp-keyproxy run` (every server behind one endpoint) serves it here.'),
    env: z
      .record(z.string(), z.string())
      .optional()
      .describe('Environment variables of a local server, over those of the user config (may use ${secret:NAME} and ${env:VAR}).'),
  })
  .strict();

/** The whole `.mcp-keyproxy.json`. */
export const projectFileSchema = z
  .object({
    $schema: z.string().optional(),
    servers: z
      .record(z.string().regex(SERVER_NAME_PATTERN, SERVER_NAME_RULE), z.union([localServerSchema, remoteServerSchema, overrideSchema]))
      .default({})
      .describe(
        'By server name: {"enabled": …, "env": {…}} for a server of the user config, or a whole server entry (command or url) that only this project has.',
      ),
  })
  .strict();

type Entry = z.infer<typeof projectFileSchema>['servers'][string];
type Override = z.infer<typeof overrideSchema>;

const isDefinition = (entry: Entry): entry is ServerConfig => 'command' in entry || 'url' in entry;

/** `catalog` with the project file `file` (content `text`, trusted) applied; throws CONFIG_INVALID naming the file. */
export function applyProjectFile(catalog: LoadedConfig, text: string, file: string): LoadedConfig {
  const input = parseJson(blankJsoncSyntax(text.replace(/^\uFEFF/, '')), file);
  const parsed = projectFileSchema.safeParse(input);
  if (!parsed.success) throw invalid(file, zodIssuesToFindings(parsed.error.issues, input));
  const servers: Record<string, ServerConfig> = { ...catalog.servers };
  const definedIn: Record<string, string> = { ...catalog.definedIn };
  const errors: ConfigFinding[] = [];
  const warnings: ConfigFinding[] = [];
  for (const [name, entry] of Object.entries(parsed.data.servers)) {
    const at = ['servers', name];
    const known = Object.hasOwn(catalog.servers, name) ? catalog.servers[name] : undefined;
    if (isDefinition(entry)) {
      if (known) {
        errors.push({
          path: at,
          message: `"${name}" is a server of ${catalog.path}: a project may enable or disable it and set its "env", not redefine it (its command would get that server's keys). Give the project's server another name`,
        });
        continue;
      }
      const server = withSourcedEnv(entry);
      const checked = checkServer(at, name, server);
      errors.push(...checked.errors);
      warnings.push(...checked.warnings);
      servers[name] = server;
      definedIn[name] = file;
      continue;
    }
    if (!known) {
      const closest = closestName(name, Object.keys(catalog.servers));
      errors.push({
        path: at,
        message: `no server "${name}" in ${catalog.path}${closest ? ` (did you mean "${closest}"?)` : ''}; a project server needs "command" or "url"`,
      });
      continue;
    }
    const merged = override(known, entry, at, errors);
    if (merged) {
      const checked = checkServer(at, name, merged);
      errors.push(...checked.errors);
      warnings.push(...checked.warnings);
      servers[name] = merged;
    }
  }
  if (errors.length > 0) throw invalid(file, errors);
  return {
    ...catalog,
    servers,
    definedIn,
    project: file,
    warnings: [...catalog.warnings, ...warnings.map((finding) => formatFinding(file, finding))],
  };
}

function override(server: ServerConfig, entry: Override, at: readonly string[], errors: ConfigFinding[]): ServerConfig | undefined {
  const enabled = entry.enabled ?? server.enabled;
  if (entry.env === undefined) return { ...server, enabled };
  if (!isLocalServer(server)) {
    errors.push({ path: [...at, 'env'], message: 'this server is remote (a url): "env" is for a local server (command)' });
    return undefined;
  }
  return withSourcedEnv({ ...server, enabled, env: { ...server.env, ...entry.env } });
}
