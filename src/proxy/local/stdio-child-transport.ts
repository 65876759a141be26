import { createInterface } from 'node:readline';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { stopChild, type SpawnedChild } from './child-process.js';
import { JsonLineReader } from '../wire/json-lines.js';
import { writeLine } from '../wire/original-line.js';
import { markStartup } from '../../timing/startup-trace.js';

/**
 * SDK `Transport` over the stdio of a downstream server already started by `spawnChild` (newline-delimited JSON-RPC).
 * Unlike the SDK's `StdioClientTransport` the child runs in its own process group (nothing it starts outlives its
 * stop, its crash or the proxy), its stderr is handed over line by line, and its exit status is kept.
 */
export class StdioChildTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  /** Called with each line the child writes to stderr (the caller logs it; the logger scrubs it). */
  onstderr?: (line: string) => void;

  private readonly reader = new JsonLineReader(
    (message) => this.onmessage?.(message),
    // A line that is not JSON-RPC (a server printing logs to stdout): reported, and the reading goes on.
    (error) => this.onerror?.(error),
  );
  private started = false;
  /** Stdout read before `start` (a child that writes and ends before then). */
  private readonly early: Buffer[] = [];

  /**
   * Reads the child's stdout and stderr from now on: a child that writes and ends before `start` (one that dies at
   * start-up, while the proxy loads its router) would otherwise take its last words with it, since Node drops a
   * pipe's unread data once the child has closed. Stdout is handed on from `start`; stderr lines go to `onstderr`,
   * which the launcher sets right away.
   */
  constructor(private readonly spawned: SpawnedChild) {
    const child = spawned.process;
    child.stdout?.on('data', (chunk: Buffer) => {
      markStartup('childFirstByte');
      if (this.started) this.reader.push(chunk);
      else this.early.push(chunk);
    });
    if (child.stderr) {
      createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => this.onstderr?.(line));
    }
  }

  /** How the child ended, once it has. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    const { exitCode: code, signalCode: signal } = this.spawned.process;
    return code === null && signal === null ? undefined : { code, signal };
  }

  /** Starts reading the child's output (it was spawned already). */
  async start(): Promise<void> {
    if (this.started) throw new Error('StdioChildTransport already started');
    this.started = true;
    for (const chunk of this.early.splice(0)) this.reader.push(chunk);
    void this.spawned.closed.then(() => this.onclose?.());
    this.spawned.process.stdin?.on('error', (error) => this.onerror?.(error));
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.spawned.process.stdin;
    if (!stdin || !stdin.writable) return Promise.reject(new Error('downstream is not running'));
    return new Promise((resolve, reject) => {
      writeLine(stdin, message, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Stops the child and its process group in steps and resolves once the group is empty. */
  close(): Promise<void> {
    return stopChild(this.spawned);
  }
}
