import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';

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
  return {
    listTools: async () => (await client.listTools(undefined, { timeout: STEP_TIMEOUT_MS })).tools.map((tool) => tool.name),
    call: async (name, args, onprogress) =>
      (await client.callTool({ name, arguments: args }, undefined, { timeout: STEP_TIMEOUT_MS, onprogress })) as CallResult,
    close: () => client.close(),
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
  return {
    listTools: async () => (await client.listTools(undefined, { timeout: STEP_TIMEOUT_MS })).tools.map((tool) => tool.name),
    call: async (name, args, onprogress) =>
      (await client.callTool({ name, arguments: args }, { timeout: STEP_TIMEOUT_MS, ...(onprogress ? { onprogress } : {}) })) as CallResult,
    close: () => client.close(),
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

/** Runs every step of one cell: `client` against `target`, whose tools are `tools`. Never throws. */
export async function runCell(kind: ClientKind, target: Target, tools: ToolSet): Promise<CellResult> {
  const result: CellResult = { steps: Object.fromEntries(STEPS.map((step) => [step, false])) as Record<Step, boolean>, errors: {} };
  const attempt = async (step: Step, check: () => Promise<boolean>) => {
    try {
      result.steps[step] = await check();
      if (!result.steps[step]) result.errors[step] = 'unexpected answer';
    } catch (error) {
      result.errors[step] = (error as Error).message.slice(0, 300);
    }
  };
  let session: Session | undefined;
  await attempt('connect', async () => {
    session = await connect(kind, target);
    return true;
  });
  if (!session) return result;
  const open = session;
  try {
    await attempt('tools/list', async () => (await open.listTools()).includes(tools.echo.name));
    await attempt('echo', async () => textOf(await open.call(tools.echo.name, tools.echo.arguments)).includes('matrix'));
    await attempt('elicitation', async () => textOf(await open.call(tools.elicitation.name, tools.elicitation.arguments)).includes(NAME));
    await attempt('progress', async () => {
      let notices = 0;
      await open.call(tools.progress.name, tools.progress.arguments, () => (notices += 1));
      return notices > 0;
    });
    await attempt('sampling', async () => textOf(await open.call(tools.sampling.name, tools.sampling.arguments)).includes(SAMPLED));
  } finally {
    await open.close().catch(() => undefined);
  }
  return result;
}
