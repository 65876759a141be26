import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { referencedSecretNames, resolveServerCommand } from '../config/references.js';
import type { LocalServerConfig, ServerConfig } from '../config/schema.js';
import { isLocalServer } from '../config/types.js';
import type { LoadedConfig } from '../config/types.js';
import { ExitCode, KeyproxyError } from '../errors.js';
import { characterLength, MIN_SCRUB_LENGTH, MIN_STORED_LENGTH } from '../log/scrubber.js';
import type { SecretStore } from '../secrets/store.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { DialogReport } from '../dialog/driver.js';
import { openCliAuditLog } from './audit.js';
import { writeLine, type CliContext } from './context.js';
import { secretsSetCommand } from '../secrets/hints.js';
import { describeSource, parseSource } from '../sources/source.js';

type Status = 'ok' | 'warn' | 'fail';

interface Check {
  status: Status;
  what: string;
  /** What was checked, for `--json`: config, keychain, dialog, command, remote, secret, child-env. */
  check?: string;
  server?: string;
  secret?: string;
}

/** What `doctor --json` prints: every check, the dialog choice and each local server's child variable names. */
interface DoctorJson {
  ok: boolean;
  checks: { check: string; status: Status; message: string; server?: string; secret?: string }[];
  dialog: Omit<DialogReport, 'display'> & { display?: { source: string; variables: string[]; description: string } };
  servers: Record<string, { child_env?: string[] }>;
}

/** `mcp-keyproxy doctor`: what works and what to fix, without printing any secret value. */
export function doctorCommand(ctx: CliContext, setExitCode: (code: number) => void): Command {
  return new Command('doctor')
    .description('check the config, the keychain, the dialog and display, each server command and each declared secret')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print one JSON object (every check with its status and message; names, never values)')
    .action(async (options: { config?: string; json?: boolean }) => {
      const checks: Check[] = [];
      const report = (check: Check): void => {
        checks.push(check);
        if (!options.json) writeLine(ctx.stdout, `${check.status.toUpperCase().padEnd(4)}  ${check.what}`);
      };
      const servers: DoctorJson['servers'] = {};
      const config = await checkConfig(ctx, options.config, report);
      const store = await checkKeychain(ctx, report);
      const dialog = await checkDialog(ctx, report);
      const audit = openCliAuditLog(ctx);
      for (const [name, server] of Object.entries(config?.servers ?? {})) {
        servers[name] = await checkServer(ctx, name, server, { store, audit }, report);
      }
      audit.close();
      const failed = checks.filter((check) => check.status === 'fail').length;
      if (options.json) {
        writeLine(ctx.stdout, JSON.stringify(doctorJson(checks, dialog, servers), null, 2));
      } else {
        writeLine(ctx.stdout, failed === 0 ? '\nAll checks passed.' : `\n${failed} check(s) failed.`);
      }
      setExitCode(failed === 0 ? ExitCode.ok : ExitCode.failure);
    });
}

function doctorJson(checks: readonly Check[], dialog: DialogReport, servers: DoctorJson['servers']): DoctorJson {
  const { display, ...rest } = dialog;
  return {
    ok: checks.every((check) => check.status !== 'fail'),
    checks: checks.map(({ check, status, what, server, secret }) => ({ check: check ?? 'other', status, message: what, server, secret })),
    dialog: {
      ...rest,
      display: display && { source: display.source, variables: Object.keys(display.env ?? {}), description: display.description },
    },
    servers,
  };
}

/** Which dialog a prompt would show, on which display (found through which fallback), and why. */
async function checkDialog(ctx: CliContext, report: (check: Check) => void): Promise<DialogReport> {
  // Loaded here, not at start-up: the driver pulls in execa.
  const { dialogReport } = await import('../dialog/driver.js');
  const dialog = dialogReport({ env: ctx.env });
  const display = dialog.display?.env ? ` on ${dialog.display.description}` : '';
  const why = dialog.gtkSkipped ? ` (${dialog.gtkSkipped})` : '';
  if (dialog.driver === 'none') {
    // Not a failure: a machine without a desktop runs headless (`--headless`, `secrets set` from a terminal).
    report({
      check: 'dialog',
      status: 'warn',
      what: `dialog: none can be shown: ${dialog.unavailable ?? 'unknown reason'}; without one, store secrets with \`mcp-keyproxy secrets set …\` and run with --headless or "confirm": false`,
    });
  } else {
    const name = { gtk: 'the GTK dialog', zenity: 'zenity', osascript: 'osascript (AppKit)', powershell: 'PowerShell (WinForms)' }[
      dialog.driver
    ];
    report({ check: 'dialog', status: dialog.gtkSkipped ? 'warn' : 'ok', what: `dialog: ${name} ${dialog.program ?? ''}${display}${why}` });
  }
  return dialog;
}

async function checkConfig(ctx: CliContext, path: string | undefined, report: (check: Check) => void): Promise<LoadedConfig | undefined> {
  try {
    const config = await loadConfig({ configPath: path, env: ctx.env, cwd: ctx.cwd });
    report({ check: 'config', status: 'ok', what: `config: ${config.path} (${Object.keys(config.servers).length} server(s))` });
    for (const warning of config.warnings) report({ check: 'config', status: 'warn', what: warning });
    for (const file of config.untrusted ?? []) report({ check: 'config', status: 'warn', what: file.message });
    return config;
  } catch (error) {
    report({ check: 'config', status: 'fail', what: `config: ${messageOf(error)}` });
    return undefined;
  }
}

async function checkKeychain(ctx: CliContext, report: (check: Check) => void): Promise<SecretStore | undefined> {
  try {
    const store = ctx.openStore();
    await store.probe();
    report({ check: 'keychain', status: 'ok', what: `keychain: ${store.backend} reachable and unlocked` });
    return store;
  } catch (error) {
    report({ check: 'keychain', status: 'fail', what: `keychain: ${messageOf(error)}` });
    return undefined;
  }
}

async function checkServer(
  ctx: CliContext,
  name: string,
  server: ServerConfig,
  { store, audit }: { store: SecretStore | undefined; audit: AuditLog },
  report: (check: Check) => void,
): Promise<{ child_env?: string[] }> {
  const stored = store ? await readSecrets(name, server, store, audit, report) : undefined;
  const result: { child_env?: string[] } = {};
  if (isLocalServer(server)) {
    try {
      const { command, cwd } = resolveServerCommand(server, ctx.env);
      const found = await findExecutable(command, cwd ?? ctx.cwd, ctx.env.PATH ?? '');
      report(
        found
          ? { check: 'command', server: name, status: 'ok', what: `${name}: command "${command}" found at ${found}` }
          : {
              check: 'command',
              server: name,
              status: 'fail',
              what: `${name}: command "${command}" not found on PATH; install it or fix "command" in the config`,
            },
      );
    } catch (error) {
      report({ check: 'command', server: name, status: 'fail', what: `${name}: ${messageOf(error)}` });
    }
    result.child_env = await childEnvNames(server, stored, ctx.env);
    report({
      check: 'child-env',
      server: name,
      status: 'ok',
      what: `${name}: its process gets ${result.child_env.join(', ') || 'no variables'} (names only, with this shell's environment)`,
    });
  } else {
    const { checkRemoteReachable } = await import('../proxy/remote/reachability.js');
    report({ check: 'remote', server: name, ...(await checkRemoteReachable(name, server, { stored, env: ctx.env, audit })) });
  }
  for (const secret of referencedSecretNames(server)) {
    const from = server.secrets[secret]?.from;
    // Not read here: a source may run a program or ask 1Password; `run` reads it and names it when it fails.
    if (from !== undefined) {
      const what = `${name}: secret ${secret} comes from ${describeSource(parseSource(from))} (read at start)`;
      report({ check: 'secret', server: name, secret, status: 'ok', what });
    }
  }
  if (!stored) return result;
  for (const secret of referencedSecretNames(server)) {
    const value = stored.get(secret);
    const declaration = server.secrets[secret];
    if (declaration?.from !== undefined) {
      continue;
    } else if (value === undefined) {
      const optional = declaration?.required === false || declaration?.default !== undefined;
      report({
        check: 'secret',
        server: name,
        secret,
        status: optional ? 'warn' : 'fail',
        what: `${name}: secret ${secret} is missing${optional ? ' (optional)' : ''}; run \`${secretsSetCommand(name, secret, undefined)}\``,
      });
    } else if (characterLength(value) < MIN_SCRUB_LENGTH) {
      report({
        check: 'secret',
        server: name,
        secret,
        status: 'fail',
        what: `${name}: secret ${secret} is shorter than ${MIN_SCRUB_LENGTH} characters, too short to scrub, so it is not injected; store a longer one: \`${secretsSetCommand(name, secret, undefined)}\``,
      });
    } else if (characterLength(value) < MIN_STORED_LENGTH) {
      report({
        check: 'secret',
        server: name,
        secret,
        status: 'warn',
        what: `${name}: secret ${secret} is shorter than ${MIN_STORED_LENGTH} characters; a value this short is refused when stored now, so store a longer one: \`${secretsSetCommand(name, secret, undefined)}\``,
      });
    } else {
      report({ check: 'secret', server: name, secret, status: 'ok', what: `${name}: secret ${secret} is stored` });
    }
  }
  return result;
}

/**
 * The names of the variables a local server's process would get, by the proxy's own rule (child-env.ts), with this
 * shell's environment as the parent: resolved from names alone, so no value is read for it.
 */
async function childEnvNames(
  server: LocalServerConfig,
  stored: ReadonlyMap<string, string> | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const [{ buildChildEnv }, { planCredentials, withoutAbsent }] = await Promise.all([
    import('../proxy/local/child-env.js'),
    import('../proxy/downstream/credential-plan.js'),
  ]);
  const plan = planCredentials(server, stored ?? new Map());
  const serverEnv = Object.fromEntries(Object.keys(withoutAbsent(server.env, plan.absentOptional)).map((key) => [key, '']));
  return Object.keys(buildChildEnv(env, serverEnv, server.inherit_env)).sort();
}

/** Every secret of a server, read once and audited; undefined (reported) when the keychain cannot give them. */
async function readSecrets(
  name: string,
  server: ServerConfig,
  store: SecretStore,
  audit: AuditLog,
  report: (check: Check) => void,
): Promise<Map<string, string> | undefined> {
  try {
    const stored = await store.getAll(name);
    const read = referencedSecretNames(server).filter((secret) => stored.has(secret));
    if (read.length > 0) audit.secretRead(name, read, 'keychain');
    return stored;
  } catch (error) {
    report({ check: 'keychain', server: name, status: 'fail', what: `${name}: cannot read its secrets: ${messageOf(error)}` });
    return undefined;
  }
}

/** The path an executable would be run from, or undefined. */
async function findExecutable(command: string, cwd: string, pathVariable: string): Promise<string | undefined> {
  const candidates =
    command.includes('/') || isAbsolute(command)
      ? [resolve(cwd, command)]
      : pathVariable
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; try the next PATH entry.
    }
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof KeyproxyError || error instanceof Error ? error.message : String(error);
}
