import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { referencedSecretNames, resolveServerCommand } from '../config/references.js';
import type { ServerConfig } from '../config/schema.js';
import { isLocalServer } from '../config/types.js';
import type { LoadedConfig } from '../config/types.js';
import { ExitCode, KeyproxyError } from '../errors.js';
import { characterLength, MIN_SCRUB_LENGTH, MIN_STORED_LENGTH } from '../log/scrubber.js';
import type { SecretStore } from '../secrets/store.js';
import type { AuditLog } from '../audit/audit-log.js';
import { openCliAuditLog } from './audit.js';
import { writeLine, type CliContext } from './context.js';
import { secretsSetCommand } from '../secrets/hints.js';

type Status = 'ok' | 'warn' | 'fail';

interface Check {
  status: Status;
  what: string;
}

/** `mcp-keyproxy doctor`: what works and what to fix, without printing any secret value. */
export function doctorCommand(ctx: CliContext, setExitCode: (code: number) => void): Command {
  return new Command('doctor')
    .description('check the config, the keychain, each server command and each declared secret')
    .option('-c, --config <file>', 'config file')
    .action(async (options: { config?: string }) => {
      const checks: Check[] = [];
      const report = (check: Check): void => {
        checks.push(check);
        writeLine(ctx.stdout, `${check.status.toUpperCase().padEnd(4)}  ${check.what}`);
      };
      const config = await checkConfig(ctx, options.config, report);
      const store = await checkKeychain(ctx, report);
      const audit = openCliAuditLog(ctx);
      for (const [name, server] of Object.entries(config?.servers ?? {})) {
        await checkServer(ctx, name, server, { store, audit }, report);
      }
      audit.close();
      const failed = checks.filter((check) => check.status === 'fail').length;
      writeLine(ctx.stdout, failed === 0 ? '\nAll checks passed.' : `\n${failed} check(s) failed.`);
      setExitCode(failed === 0 ? ExitCode.ok : ExitCode.failure);
    });
}

async function checkConfig(ctx: CliContext, path: string | undefined, report: (check: Check) => void): Promise<LoadedConfig | undefined> {
  try {
    const config = await loadConfig({ configPath: path, env: ctx.env, cwd: ctx.cwd });
    report({ status: 'ok', what: `config: ${config.path} (${Object.keys(config.servers).length} server(s))` });
    for (const warning of config.warnings) report({ status: 'warn', what: warning });
    return config;
  } catch (error) {
    report({ status: 'fail', what: `config: ${messageOf(error)}` });
    return undefined;
  }
}

async function checkKeychain(ctx: CliContext, report: (check: Check) => void): Promise<SecretStore | undefined> {
  try {
    const store = ctx.openStore();
    await store.probe();
    report({ status: 'ok', what: `keychain: ${store.backend} reachable and unlocked` });
    return store;
  } catch (error) {
    report({ status: 'fail', what: `keychain: ${messageOf(error)}` });
    return undefined;
  }
}

async function checkServer(
  ctx: CliContext,
  name: string,
  server: ServerConfig,
  { store, audit }: { store: SecretStore | undefined; audit: AuditLog },
  report: (check: Check) => void,
): Promise<void> {
  const stored = store ? await readSecrets(name, server, store, audit, report) : undefined;
  if (isLocalServer(server)) {
    try {
      const { command, cwd } = resolveServerCommand(server, ctx.env);
      const found = await findExecutable(command, cwd ?? ctx.cwd, ctx.env.PATH ?? '');
      report(
        found
          ? { status: 'ok', what: `${name}: command "${command}" found at ${found}` }
          : { status: 'fail', what: `${name}: command "${command}" not found on PATH; install it or fix "command" in the config` },
      );
    } catch (error) {
      report({ status: 'fail', what: `${name}: ${messageOf(error)}` });
    }
  } else {
    const { checkRemoteReachable } = await import('../proxy/remote/reachability.js');
    report(await checkRemoteReachable(name, server, { stored, env: ctx.env, audit }));
  }
  if (!stored) return;
  for (const secret of referencedSecretNames(server)) {
    const value = stored.get(secret);
    const declaration = server.secrets[secret];
    if (value === undefined) {
      const optional = declaration?.required === false || declaration?.default !== undefined;
      report({
        status: optional ? 'warn' : 'fail',
        what: `${name}: secret ${secret} is missing${optional ? ' (optional)' : ''}; run \`${secretsSetCommand(name, secret)}\``,
      });
    } else if (characterLength(value) < MIN_SCRUB_LENGTH) {
      report({
        status: 'fail',
        what: `${name}: secret ${secret} is shorter than ${MIN_SCRUB_LENGTH} characters, too short to scrub, so it is not injected; store a longer one: \`${secretsSetCommand(name, secret)}\``,
      });
    } else if (characterLength(value) < MIN_STORED_LENGTH) {
      report({
        status: 'warn',
        what: `${name}: secret ${secret} is shorter than ${MIN_STORED_LENGTH} characters; a value this short is refused when stored now, so store a longer one: \`${secretsSetCommand(name, secret)}\``,
      });
    } else {
      report({ status: 'ok', what: `${name}: secret ${secret} is stored` });
    }
  }
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
    report({ status: 'fail', what: `${name}: cannot read its secrets: ${messageOf(error)}` });
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
