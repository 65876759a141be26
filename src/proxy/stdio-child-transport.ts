import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { KeyproxyError } from '../errors.js';

/** How a local downstream is launched. `env` is the complete environment (see `buildChildEnv`). */
export interface ChildSpec {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
}

/** How the child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Grace periods of the stepwise stop: stdin closed, then SIGTERM, then SIGKILL. */
const STOP_STEP_MS = 2000;

/** Process groups still running, killed on the way out even if the proxy ends abruptly. */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // The child leads its own process group, so wrappers such as `npx` or `sh -c` take their children along.
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * SDK `Transport` to a downstream MCP server run as a child process over stdio, using the SDK's framing.
 * Unlike the SDK's `StdioClientTransport` it runs the child in its own process group (so nothing it starts
 * outlives the proxy), hands stderr over line by line, and reports the exit status.
 */
export class StdioChildTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  /** Called with each line the child writes to stderr (the caller scrubs and logs it). */
  onstderr?: (line: string) => void;

  private child: ChildProcess | undefined;
  private readonly readBuffer = new ReadBuffer();
  private exitStatus: ChildExit | undefined;
  private readonly exited: Promise<ChildExit>;
  private resolveExited!: (exit: ChildExit) => void;

  constructor(private readonly spec: ChildSpec) {
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  /** The child's pid once started. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The exit status, once the child has ended. */
  get exit(): ChildExit | undefined {
    return this.exitStatus;
  }

  /** Spawns the child; rejects with a clear error when the command cannot be started. */
  start(): Promise<void> {
    if (this.child) throw new Error('StdioChildTransport already started');
    return new Promise((resolve, reject) => {
      const child = spawn(this.spec.command, [...this.spec.args], {
        env: this.spec.env,
        cwd: this.spec.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
        shell: false,
      });
      this.child = child;
      child.once('spawn', () => {
        if (child.pid !== undefined) liveGroups.add(child.pid);
        resolve();
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (child.pid === undefined) {
          reject(spawnError(this.spec, error));
        } else {
          this.onerror?.(error);
        }
      });
      child.once('close', (code, signal) => {
        if (child.pid !== undefined) liveGroups.delete(child.pid);
        this.exitStatus = { code, signal };
        this.resolveExited(this.exitStatus);
        this.onclose?.();
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        this.readBuffer.append(chunk);
        this.drainReadBuffer();
      });
      child.stdin?.on('error', (error) => this.onerror?.(error));
      if (child.stderr) {
        createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => this.onstderr?.(line));
      }
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || !stdin.writable) return Promise.reject(new Error('downstream is not running'));
    return new Promise((resolve, reject) => {
      stdin.write(serializeMessage(message), (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Stops the child in steps (stdin closed, SIGTERM, SIGKILL) and resolves once it has exited. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || this.exitStatus || child.pid === undefined) return;
    const pid = child.pid;
    child.stdin?.end();
    if (await this.exitsWithin(STOP_STEP_MS)) return;
    killGroup(pid, 'SIGTERM');
    if (await this.exitsWithin(STOP_STEP_MS)) return;
    killGroup(pid, 'SIGKILL');
    await this.exited;
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
      timer.unref();
    });
    const exited = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return exited;
  }

  private drainReadBuffer(): void {
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.readBuffer.readMessage();
      } catch (error) {
        // A line that is not JSON-RPC (a server printing logs to stdout): report it, keep reading.
        this.onerror?.(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      if (message === null) return;
      this.onmessage?.(message);
    }
  }
}

function spawnError(spec: ChildSpec, error: NodeJS.ErrnoException): KeyproxyError {
  const what =
    error.code === 'ENOENT'
      ? `command "${spec.command}" was not found (check "command" in the config and that it is on PATH)`
      : error.code === 'EACCES'
        ? `command "${spec.command}" is not executable`
        : `command "${spec.command}" could not be started (${error.code ?? error.message})`;
  return new KeyproxyError('DOWNSTREAM_FAILED', `The server could not start: ${what}.`, { cause: error });
}
