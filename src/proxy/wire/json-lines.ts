import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { InvalidFrameError, JsonRpcErrorCode, toJSONRPCMessage } from './json-rpc.js';
import { rememberLine, type LineBytes } from './original-line.js';

/**
 * A line longer than this is dropped with an error: one message must not exhaust the proxy's memory. (The SDK's
 * own stdio clients refuse lines over 10 MB.)
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Splits a byte stream into newline-delimited JSON-RPC messages. The pieces of a line are only joined once its
 * end has arrived, and only to decode its text: the message keeps the pieces, which go out as they came (see
 * `writeLine`), so the joined copy of a large message is freed as soon as it is decoded. A line that is not
 * JSON-RPC (a server printing logs to stdout, a client's malformed frame) is reported with `onerror` as an
 * `InvalidFrameError`, which the client side answers, and skipped; blank lines are skipped silently.
 */
export class JsonLineReader {
  private pieces: Buffer[] = [];
  private pendingBytes = 0;
  /** Set while the rest of an over-long line is being skipped. */
  private skipping = false;

  constructor(
    private readonly onmessage: (message: JSONRPCMessage) => void,
    private readonly onerror: (error: Error) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, end + 1);
      start = end + 1;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      const line: LineBytes = this.pieces.length === 0 ? piece : [...this.pieces, piece];
      this.pieces = [];
      this.pendingBytes = 0;
      this.read(textOf(Buffer.isBuffer(line) ? line : Buffer.concat(line)), line);
    }
    if (start < chunk.length && !this.skipping) this.keep(chunk.subarray(start));
  }

  /** Forgets a partial line (the stream ended). */
  clear(): void {
    this.pieces = [];
    this.pendingBytes = 0;
    this.skipping = false;
  }

  private keep(piece: Buffer): void {
    this.pendingBytes += piece.length;
    if (this.pendingBytes <= MAX_LINE_BYTES) {
      this.pieces.push(piece);
      return;
    }
    this.clear();
    this.skipping = true;
    const dropped = `a message longer than ${MAX_LINE_BYTES / 1024 / 1024} MB was dropped`;
    this.onerror(new InvalidFrameError(JsonRpcErrorCode.InvalidRequest, dropped, dropped));
  }

  /** `text`: the line without its line ending; `bytes`: the line as it came, line ending included. */
  private read(text: string, bytes: LineBytes): void {
    let message: JSONRPCMessage;
    try {
      message = toJSONRPCMessage(JSON.parse(text));
      rememberLine(message, text, bytes);
    } catch (error) {
      // A blank line does not parse either: it is only looked for here, off the path of every message.
      if (text.trim() === '') return;
      // JSON.parse quotes the text around a syntax error: only the kind of fault is reported, never the line.
      this.onerror(
        error instanceof InvalidFrameError ? error : new InvalidFrameError(JsonRpcErrorCode.ParseError, 'the line is not valid JSON'),
      );
      return;
    }
    this.onmessage(message);
  }
}

/** The text of a line without its line ending (`\n` or `\r\n`). */
function textOf(bytes: Buffer): string {
  return bytes.toString('utf8', 0, bytes.length - (bytes.length > 1 && bytes[bytes.length - 2] === 0x0d ? 2 : 1));
}
