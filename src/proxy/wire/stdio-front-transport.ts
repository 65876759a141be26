import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { JsonLineReader } from './json-lines.js';
import { writeLine } from './original-line.js';
import { markStartup, startupFinished } from '../../timing/startup-trace.js';

/**
 * The client side of the proxy: newline-delimited JSON-RPC on its stdin and stdout, as the SDK's
 * `StdioServerTransport` speaks it. A message forwarded unchanged is written as the bytes it arrived as.
 */
export class StdioFrontTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;

  private readonly reader = new JsonLineReader(
    (message) => this.onmessage?.(message),
    (error) => this.onerror?.(error),
  );
  private readonly ondata = (chunk: Buffer): void => {
    markStartup('clientFirstByte');
    this.reader.push(chunk);
  };
  private readonly onstreamerror = (error: Error): void => this.onerror?.(error);
  /** The client is gone (EPIPE): reported, and the transport closes, which stops the proxy. */
  private readonly onoutputerror = (error: Error): void => {
    this.onerror?.(error);
    void this.close();
  };
  private started = false;
  private closed = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
  ) {}

  async start(): Promise<void> {
    if (this.started) throw new Error('StdioFrontTransport already started');
    this.started = true;
    this.input.on('data', this.ondata);
    this.input.on('error', this.onstreamerror);
    this.output.on('error', this.onoutputerror);
  }

  /** Resolves once the line is written, or handed to the stream when it has room again. */
  send(message: JSONRPCMessage): Promise<void> {
    startupFinished();
    return new Promise((resolve) => {
      if (writeLine(this.output, message)) resolve();
      else this.output.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.ondata);
    this.input.off('error', this.onstreamerror);
    // Still listened to: a write that was under way may fail after closing, which must not crash the proxy.
    this.output.on('error', () => undefined);
    this.output.off('error', this.onoutputerror);
    this.input.pause();
    this.reader.clear();
    this.onclose?.();
  }
}
