import { z } from 'zod';
import { SECRET_NAME_PATTERN, SECRET_NAME_RULE, SERVER_NAME_PATTERN, SERVER_NAME_RULE } from './names.js';

/** A server name: it becomes part of the keychain service name and of tool prefixes. */
const serverNameSchema = z.string().regex(SERVER_NAME_PATTERN, SERVER_NAME_RULE);

/** A secret (or env variable) name as used in `${secret:NAME}`. */
const secretNameSchema = z.string().regex(SECRET_NAME_PATTERN, SECRET_NAME_RULE);

/** A `"from"` given as a string: where a secret's value is read instead of the keychain. */
const sourceStringSchema = z
  .string()
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+|credential:[^/\\]+|op:\/\/.+)$/,
    'use "env:VAR", "file:/path", "credential:NAME", "op://Vault/Item/field" or {"command": ["program", "arg", …]}',
  )
  .refine((from) => !from.startsWith('op://') || /^op:\/\/[^/]+\/[^/]+(\/[^/]+)?\/[^/]+$/.test(from), {
    error: 'an op:// reference is op://Vault/Item/field or op://Vault/Item/section/field',
  });

/** Where a secret's value comes from, when not the keychain (see src/sources/). */
export const secretSourceSchema = z.union([
  sourceStringSchema,
  z
    .object({
      command: z.array(z.string().min(1)).min(1).describe('Program and arguments (no shell) that print the secret on stdout.'),
      first_line: z.boolean().default(false).describe('Only the first line of the output (pass-style output).'),
    })
    .strict(),
]);

/** Declaration of one credential a server needs (what the dialog asks for). */
export const secretDeclarationSchema = z
  .object({
    from: secretSourceSchema
      .optional()
      .describe(
        'Where the value comes from instead of the keychain: "env:VAR", "file:/path", "credential:NAME" ($CREDENTIALS_DIRECTORY/NAME), "op://Vault/Item[/section]/field" or {"command": [...], "first_line": true}.',
      ),
    label: z.string().min(1).optional().describe('Shown next to the field in the dialog; defaults to the name.'),
    field_type: z.enum(['text', 'password', 'url', 'email']).default('password'),
    required: z.boolean().default(true),
    default: z.string().optional().describe('Prefilled value (never for password fields). Used when nothing is stored.'),
    help_text: z.string().optional(),
  })
  .strict();

/**
 * A secret's declaration; a bare string is the shorthand `"NAME": "op://…"` (a declaration with that `from`, which
 * a local server gets as the variable of the same name with no other line).
 */
const secretEntrySchema = z
  .union([sourceStringSchema, secretDeclarationSchema])
  .transform((declaration) => (typeof declaration === 'string' ? secretDeclarationSchema.parse({ from: declaration }) : declaration));

/** How values read from op:// and command sources are cached in the keychain (service mcp-keyproxy-cache/<server>). */
export const sourceCacheSchema = z
  .object({
    ttl: z
      .string()
      .regex(/^(0|\d+(\.\d+)?(ms|s|m|h|d))$/, 'a duration such as "4h", "30m", "90s", or "0" for no cache')
      .default('4h')
      .describe('How long a value read from op:// or a command is used before it is read again; "0": never cached.'),
    stale: z
      .enum(['fail', 'warn', 'use'])
      .default('warn')
      .describe(
        'When the source cannot be read and an expired value is cached: "fail" (error), "warn" (use it, warn on stderr, in keyproxy__status and the audit log), "use" (use it silently, still audited).',
      ),
  })
  .strict();

/** Which tools of a server the aggregate exposes: glob patterns (`*`, `?`) on the server's own tool names. */
const toolFilterSchema = z
  .object({
    allow: z.array(z.string().min(1)).optional().describe('Only tools matching one of these globs are listed and callable.'),
    deny: z
      .array(z.string().min(1))
      .optional()
      .describe('Tools matching one of these globs are neither listed nor callable (wins over allow).'),
  })
  .strict();

/** Where missing keys are typed in: the native dialog, a one-time page in the browser, or whichever can show. */
export const collectChannelSchema = z.enum(['auto', 'dialog', 'browser']);

const commonServerFields = {
  secrets: z
    .record(secretNameSchema, secretEntrySchema)
    .default({})
    .describe(
      'Credentials referenced as ${secret:NAME}: kept in the OS keychain (service mcp-keyproxy/<server>), or read from their "from" source.',
    ),
  confirm: z.boolean().default(true).describe('Ask before stored secrets are injected (secure by default).'),
  consent: z
    .enum(['auto', 'dialog'])
    .default('auto')
    .describe(
      'Where consent is asked: "auto" in the MCP client (elicitation) when it can, else the native dialog; "dialog" always the native dialog, so an agent-driven client cannot answer its own consent.',
    ),
  collect: collectChannelSchema
    .optional()
    .describe(
      'Where a missing key is typed: "dialog" the native dialog; "browser" a one-time page on 127.0.0.1 in your browser; "auto" (the default) the dialog when a display is available, else the page. `run --collect` overrides it.',
    ),
  enabled: z.boolean().default(true).describe('false: left out when `mcp-keyproxy run` serves every server.'),
  tools: toolFilterSchema.optional().describe('Tool filter applied when this server runs behind `mcp-keyproxy run` with no server name.'),
  cache: sourceCacheSchema
    .optional()
    .describe('Cache of values read from op:// and command sources (default: the top-level "cache", else ttl "4h", stale "warn").'),
  block_secret_patterns: z
    .boolean()
    .default(false)
    .describe(
      'Also redact well-known credential formats the proxy did not inject (AWS, GitHub, Slack, Stripe, Google, OpenAI/Anthropic keys, PEM private keys) from results.',
    ),
};

/** A local server launched as a stdio child: Claude Desktop's `mcpServers` entry shape plus `secrets`. */
export const localServerSchema = z
  .object({
    type: z.literal('stdio').optional().describe('As MCP clients write it; a local server is always stdio.'),
    command: z.string().min(1).describe('Executable to launch. May contain ${env:VAR}, never ${secret:…}.'),
    args: z
      .array(z.string())
      .default([])
      .describe('Arguments. May contain ${env:VAR}; ${secret:…} is refused because argv is visible to every local user.'),
    env: z
      .record(z.string(), z.string())
      .default({})
      .describe('Environment of the child; values may contain ${secret:NAME} and ${env:VAR} ("$${" is a literal "${").'),
    cwd: z.string().optional(),
    inherit_env: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'))
      .default([])
      .describe(
        "Variables of the proxy's own environment this server also gets (e.g. JAVA_HOME), beside the allowlist (HOME, PATH, locale, proxies, CA certificates, SSH agent).",
      ),
    ...commonServerFields,
  })
  .strict();

/** Signing algorithms of a private_key_jwt client assertion (asymmetric: the authorization server holds the public key). */
export const PRIVATE_KEY_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;

/** OAuth settings of a remote server beyond `"auth": "oauth"` (see src/oauth/). */
export const oauthSettingsSchema = z
  .object({
    client_id: z
      .string()
      .min(1)
      .optional()
      .describe('A client registered with the authorization server beforehand (else dynamic registration).'),
    client_secret: z
      .string()
      .regex(/^\$\{secret:[A-Za-z_][A-Za-z0-9_.-]{0,127}\}$/, 'use a keychain reference "${secret:NAME}", never the secret itself')
      .optional()
      .describe('The pre-registered client\'s secret, as "${secret:NAME}" (kept in the keychain like any secret of the server).'),
    private_key: z
      .string()
      .regex(/^\$\{secret:[A-Za-z_][A-Za-z0-9_.-]{0,127}\}$/, 'use a keychain reference "${secret:NAME}", never the key itself')
      .optional()
      .describe(
        'The pre-registered client\'s private key (PEM) for private_key_jwt client authentication (RFC 7523), as "${secret:NAME}" (kept in the keychain like client_secret); instead of client_secret.',
      ),
    private_key_alg: z
      .enum(PRIVATE_KEY_ALGS)
      .optional()
      .describe(
        'The algorithm the client assertion is signed with; by default RS256 for an RSA key, ES256 / ES384 / ES512 for a P-256 / P-384 / P-521 key.',
      ),
    scopes: z
      .array(z.string().min(1))
      .optional()
      .describe('Scopes to ask for when the server names none (WWW-Authenticate, then its metadata).'),
    callback_port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe(
        'Port of the loopback callback (http://127.0.0.1:<port>/callback); a free port unless given (a pre-registered redirect URI).',
      ),
    grant: z
      .enum(['authorization_code', 'client_credentials'])
      .default('authorization_code')
      .describe('"client_credentials": no browser, for headless agents (needs client_id and client_secret or private_key).'),
  })
  .strict()
  .refine(
    (auth) =>
      auth.grant !== 'client_credentials' ||
      (auth.client_id !== undefined && (auth.client_secret !== undefined || auth.private_key !== undefined)),
    { error: '"grant": "client_credentials" needs "client_id" and "client_secret" or "private_key"' },
  )
  .refine((auth) => auth.client_secret === undefined || auth.client_id !== undefined, { error: '"client_secret" needs "client_id"' })
  .refine((auth) => auth.private_key === undefined || auth.client_id !== undefined, { error: '"private_key" needs "client_id"' })
  .refine((auth) => auth.client_secret === undefined || auth.private_key === undefined, {
    error: 'give "client_secret" or "private_key", not both: the client authenticates with one of them',
  })
  .refine((auth) => auth.private_key_alg === undefined || auth.private_key !== undefined, {
    error: '"private_key_alg" needs "private_key"',
  });

/** A remote server reached over Streamable HTTP (or SSE). */
export const remoteServerSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'use an absolute http:// or https:// URL' })
      .describe('Server endpoint. https unless loopback or allow_http. A ${secret:NAME} here is allowed but warned about.'),
    headers: z.record(z.string(), z.string()).default({}).describe('HTTP headers; values may contain ${secret:NAME} and ${env:VAR}.'),
    transport: z.enum(['auto', 'http', 'sse']).default('auto'),
    type: z
      .enum(['http', 'streamable-http', 'streamableHttp', 'sse'])
      .optional()
      .describe('As MCP clients write it: "http" (Streamable HTTP) or "sse" sets the transport when "transport" is not given.'),
    allow_http: z.boolean().default(false).describe('Allow a plain http:// URL to a non-loopback host.'),
    auth: z
      .union([z.literal('oauth'), oauthSettingsSchema])
      .optional()
      .describe(
        'OAuth 2.1 (tokens in the OS keychain, service mcp-keyproxy-oauth/<server>): "oauth", or settings for a pre-registered client, scopes, the callback port or client_credentials.',
      ),
    ...commonServerFields,
  })
  .strict();

/** One server entry: local (`command`) or remote (`url`). */
const serverSchema = z.union([localServerSchema, remoteServerSchema]);

/** The whole proxy.config.json. `mcpServers` is accepted as an alias of `servers`. */
export const proxyConfigSchema = z
  .object({
    $schema: z.string().optional(),
    servers: z
      .record(serverNameSchema, serverSchema)
      .optional()
      .describe('MCP servers by name; the name is used in `mcp-keyproxy run <name>` and in the keychain.'),
    mcpServers: z.record(serverNameSchema, serverSchema).optional().describe('Alias of `servers` (Claude Desktop shape).'),
    cache: sourceCacheSchema
      .optional()
      .describe('Default cache of values read from op:// and command sources, for servers without their own "cache".'),
    tool_separator: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,8}$/, 'use 1 to 8 of the characters allowed in tool names: letters, digits, "_", "." or "-"')
      .default('__')
      .describe('Between server and tool (or prompt) name when `mcp-keyproxy run` serves every server: <server>__<tool>.'),
  })
  .strict()
  .meta({ title: 'mcp-keyproxy proxy.config.json', description: 'Servers behind mcp-keyproxy and the secrets they need.' });

export type SecretDeclaration = z.infer<typeof secretDeclarationSchema>;
export type CollectChannel = z.infer<typeof collectChannelSchema>;
export type SecretSourceConfig = z.infer<typeof secretSourceSchema>;
export type SourceCacheConfig = z.infer<typeof sourceCacheSchema>;
export type ToolFilter = z.infer<typeof toolFilterSchema>;
export type LocalServerConfig = z.infer<typeof localServerSchema>;
export type RemoteServerConfig = z.infer<typeof remoteServerSchema>;
export type OAuthSettingsConfig = z.infer<typeof oauthSettingsSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
