import { resolveServerCommand } from '../../config/references.js';
import type { LocalServerConfig } from '../../config/schema.js';
import { childEnvironment } from './child-env.js';
import { spawnChild } from './child-process.js';
import type { Launcher } from '../downstream/downstream.js';
import { StdioChildTransport } from './stdio-child-transport.js';

/** Launches a local stdio server with its secrets in its environment (never on argv). */
export const launchLocal: Launcher<LocalServerConfig> = async ({ serverName, server, plan, parentEnv, logger, audit, profile }) => {
  const spawned = await spawnChild({ ...resolveServerCommand(server, parentEnv), env: childEnvironment(server, plan, parentEnv, profile) });
  logger.info(
    {
      server: serverName,
      pid: spawned.process.pid,
      secrets: [...plan.values.keys()],
      sinceProcessStartMs: Math.round(process.uptime() * 1000),
    },
    'server started',
  );
  if (plan.values.size > 0) audit.injection(serverName, [...plan.values.keys()], 'env');
  const transport = new StdioChildTransport(spawned);
  const tail: string[] = [];
  transport.onstderr = (line) => {
    logger.debug({ server: serverName, stderr: line }, 'server stderr');
    if (line.trim() === '') return;
    tail.push(line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS)}…` : line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  return {
    transport,
    pid: spawned.process.pid,
    endReason: () => {
      const exit = transport.exit;
      if (!exit) return undefined;
      const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
      // Why a server died is usually in its last words (npx's E404, a missing module, a rejected key).
      return tail.length === 0 ? how : `${how}; its last output: ${tail.join(' | ')}`;
    },
  };
};

/** How much of a server's stderr its end reason quotes: the last lines, each cut to a length. */
const TAIL_LINES = 3;
const TAIL_LINE_CHARS = 200;
