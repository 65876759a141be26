import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import { waitFor } from './proxy.js';

/** The clients of the era matrix: SDK 1.32 (2025 era only) and the v2 client in each negotiation mode. */
export const CLIENTS = ['sdk-1.32', 'v2-legacy', 'v2-auto', 'v2-pin'] as const;
export type ClientKind = (typeof CLIENTS)[number];

/** What each cell tries, in order; a step after a failed connect fails too. */
export const STEPS = ['connect', 'tools/list', 'echo', 'elicitation', 'progress', 'sampling'] as const;
export type Step = (typeof STEPS)[number];

/** Where a client connects: a stdio command (a server, or mcp-keyproxy) or a Streamable HTTP URL. */
export type Target = { command: string; args: string[]; env?: Record<string, string> } | { url: string };

/** The tools a server offers for each step (server-everything's names differ from the v2 fixture's). */
export interface ToolSet {
  echo: { name: string; arguments: Record<string, unknown> };
  elicitation: { name: string; arguments: Record<string, unknown> };
  progress: { name: string; arguments: Record<string, unknown> };
  sampling: { name: string; arguments: Record<string, unknown> };
}

export const V2_FIXTURE_TOOLS: ToolSet = {
  echo: { name: 'echo', arguments: { message: 'matrix' } },
  elicitation: { name: 'elicit', arguments: {} },
  progress: { name: 'progress', arguments: {} },
  sampling: { name: 'sample', arguments: {} },
};

export const EVERYTHING_TOOLS: ToolSet = {
  echo: { name: 'echo', arguments: { message: 'matrix' } },
  elicitation: { name: 'trigger-elicitation-request', arguments: {} },
  progress: { name: 'trigger-long-running-operation', arguments: { duration: 0.2, steps: 2 } },
  sampling: { name: 'trigger-sampling-request', arguments: { prompt: 'Say hi', maxTokens: 20 } },
};

/** The tool names with the aggregate's prefix (`<server>__<tool>`). */
export function prefixed(tools: ToolSet, server: string): ToolSet {
  const each = (entry: ToolSet['echo']) => ({ ...entry, name: `${server}__${entry.name}` });
  return { echo: each(tools.echo), elicitation: each(tools.elicitation), progress: each(tools.progress), sampling: each(tools.sampling) };
}

/** One cell's outcome: every step passed or not, and the first error of each failed step. */
export interface CellResult {
  steps: Record<Step, boolean>;
  errors: Partial<Record<Step, string>>;
}

const STEP_TIMEOUT_MS = 20_000;
const NAME = 'Ada Matrix';
const SAMPLED = 'sampled hello';
const capabilities = { elicitation: { form: {} }, sampling: {} };

type CallResult = { content?: Array<{ type: string; text?: string }> };

/** The operations a cell needs, the same for both SDKs. */
interface Session {
  listTools(): Promise<string[]>;
  call(name: string, args: Record<string, unknown>, onprogress?: () => void): Promise<CallResult>;
  close(): Promise<void>;
  /** How many progress notifications the client's transport has delivered so far, whoever handled them. */
  progressSeen: () => number;
}

/**
 * Counts the progress notifications the transport delivers. Both SDKs run a notification's handler a tick later
 * but settle a response at once, so a progress notification that arrives in the same read as its call's result
 * (a busy machine, or a hop that forwards both at once) reaches the transport but never the call's `onprogress`.
 */
function progressCounter(transport: { onmessage?: (message: never, extra?: never) => void }): () => number {
  let count = 0;
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if ((message as { method?: string }).method === 'notifications/progress') count += 1;
    deliver?.(message, extra);
  };
  return () => count;
}

async function connectV1(target: Target): Promise<Session> {
  const client = new ClientV1({ name: 'era-matrix', version: '1.0.0' }, { capabilities });
  client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { name: NAME } }));
  client.setRequestHandler(CreateMessageRequestSchema, () => ({
    role: 'assistant',
    content: { type: 'text', text: SAMPLED },
    model: 'matrix-model',
  }));
  const transport =
    'url' in target
      ? new HttpV1(new URL(target.url))
      : new StdioV1({ command: target.command, args: target.args, env: target.env, stderr: 'ignore' });
  await client.connect(transport, { timeout: STEP_TIMEOUT_MS });
  const progressSeen = progressCounter(transport);
  return {
    listTools: async () => (await client.listTools(undefined, { timeout: STEP_TIMEOUT_MS })).tools.map((tool) => tool.name),
    call: async (name, args, onprogress) =>
      (await client.callTool({ name, arguments: args }, undefined, { timeout: STEP_TIMEOUT_MS, onprogress })) as CallResult,
    close: () => client.close(),
    progressSeen,
  };
}

async function connectV2(target: Target, mode: 'legacy' | 'auto' | { pin: string }): Promise<Session> {
  const client = new ClientV2({ name: 'era-matrix', version: '1.0.0' }, { capabilities, versionNegotiation: { mode } });
  client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { name: NAME } }));
  client.setRequestHandler('sampling/createMessage', () => ({
    role: 'assistant',
    content: { type: 'text', text: SAMPLED },
    model: 'matrix-model',
  }));
  const transport =
    'url' in target
      ? new HttpV2(new URL(target.url))
      : new StdioV2({ command: target.command, args: target.args, env: target.env, stderr: 'ignore' });
  await client.connect(transport, { timeout: STEP_TIMEOUT_MS });
  const progressSeen = progressCounter(transport);
  return {
    listTools: async () => (await client.listTools(undefined, { timeout: STEP_TIMEOUT_MS })).tools.map((tool) => tool.name),
    call: async (name, args, onprogress) =>
      (await client.callTool({ name, arguments: args }, { timeout: STEP_TIMEOUT_MS, ...(onprogress ? { onprogress } : {}) })) as CallResult,
    close: () => client.close(),
    progressSeen,
  };
}

function connect(kind: ClientKind, target: Target): Promise<Session> {
  switch (kind) {
    case 'sdk-1.32':
      return connectV1(target);
    case 'v2-legacy':
      return connectV2(target, 'legacy');
    case 'v2-auto':
      return connectV2(target, 'auto');
    case 'v2-pin':
      return connectV2(target, { pin: '2026-07-28' });
  }
}

function textOf(result: CallResult): string {
  return (result.content ?? []).map((block) => block.text ?? '').join('\n');
}

/** How long a cell through the aggregate waits for a member's tools to be listed (members join after `initialize`). */
const MEMBER_WAIT_MS = 30_000;

function emptyResult(): CellResult {
  return { steps: Object.fromEntries(STEPS.map((step) => [step, false])) as Record<Step, boolean>, errors: {} };
}

/** Runs every step of one cell: `client` against `target`, whose tools are `tools`. Never throws. */
export async function runCell(kind: ClientKind, target: Target, tools: ToolSet): Promise<CellResult> {
  return (await runCells(kind, target, [tools]))[0]!;
}

/**
 * Runs the steps for each tool set over one connection (the aggregate serves several servers' tools, one cell each).
 * With `waitForTools`, tools/list is asked again (bounded) until the set's echo tool is listed: the aggregate
 * answers the client before its members are ready. Never throws.
 */
export async function runCells(
  kind: ClientKind,
  target: Target,
  toolSets: readonly ToolSet[],
  { waitForTools = false }: { waitForTools?: boolean } = {},
): Promise<CellResult[]> {
  const results = toolSets.map(() => emptyResult());
  let session: Session | undefined;
  try {
    session = await connect(kind, target);
  } catch (error) {
    for (const result of results) result.errors.connect = (error as Error).message.slice(0, 300);
    return results;
  }
  const open = session;
  try {
    for (const [index, tools] of toolSets.entries()) {
      const result = results[index]!;
      result.steps.connect = true;
      const attempt = async (step: Step, check: () => Promise<boolean>) => {
        try {
          result.steps[step] = await check();
          if (!result.steps[step]) result.errors[step] = 'unexpected answer';
        } catch (error) {
          result.errors[step] = (error as Error).message.slice(0, 300);
        }
      };
      const listed = async () => (await open.listTools()).includes(tools.echo.name);
      await attempt('tools/list', async () => {
        if (!waitForTools) return listed();
        // A list asked while members start may be slow on a busy machine: asked again until the bound, and the
        // last error is the step's when the tool never shows.
        let failure: unknown;
        const shown = await waitFor(() => listed().catch((error: unknown) => ((failure = error), false)), MEMBER_WAIT_MS);
        if (!shown && failure !== undefined) throw failure;
        return shown;
      });
      await attempt('echo', async () => textOf(await open.call(tools.echo.name, tools.echo.arguments)).includes('matrix'));
      await attempt('elicitation', async () => textOf(await open.call(tools.elicitation.name, tools.elicitation.arguments)).includes(NAME));
      await attempt('progress', async () => {
        let notices = 0;
        const before = open.progressSeen();
        await open.call(tools.progress.name, tools.progress.arguments, () => (notices += 1));
        // Handled by the call, or delivered before its result (see progressCounter).
        return notices > 0 || open.progressSeen() > before;
      });
      await attempt('sampling', async () => textOf(await open.call(tools.sampling.name, tools.sampling.arguments)).includes(SAMPLED));
    }
  } finally {
    await open.close().catch(() => undefined);
  }
  return results;
}
