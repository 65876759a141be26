import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where audit lines go. `write` gets one complete line (newline included) and must not throw. */
export interface AuditSink {
  write(line: string): void;
}

/** Size of the current file that triggers a rotation. */
const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
/** Rotated files kept (`audit.jsonl.1`, `audit.jsonl.2`): the log never exceeds (keep + 1) × max bytes. */
export const DEFAULT_KEEP = 2;

/** Options of `FileAuditSink`. */
export interface FileAuditSinkOptions {
  maxBytes?: number;
  keep?: number;
  /** Told once about the first failed write; later failures are silent (the audit log never stops the proxy). */
  onError?: (error: unknown) => void;
}

/**
 * Appends lines to a JSON Lines file, mode 0600 in a 0700 directory, with size-capped rotation.
 * The file is opened per line in append mode: several proxy processes share one log, a rotation by any of them
 * is seen by all, and O_APPEND keeps each line whole. Audit events are rare (start-up, coalesced hits), so the
 * open costs nothing that matters, and a synchronous write means nothing is lost when the process exits.
 */
export class FileAuditSink implements AuditSink {
  private readonly maxBytes: number;
  private readonly keep: number;
  private prepared = false;
  private failed = false;

  constructor(
    /** Path of the current file. */
    readonly file: string,
    private readonly options: FileAuditSinkOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.keep = Math.max(1, options.keep ?? DEFAULT_KEEP);
  }

  /** Appends one line, rotating first when it would push the file past the cap. */
  write(line: string): void {
    try {
      this.prepare();
      let fd = this.open();
      try {
        const stat = fstatSync(fd);
        if (stat.size > 0 && stat.size + Buffer.byteLength(line) > this.maxBytes) {
          closeSync(fd);
          // Another process may have rotated between our open and now: rotate only the file we measured.
          if (statSync(this.file).ino === stat.ino) this.rotate();
          fd = this.open();
        }
        writeSync(fd, line);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if (!this.failed) this.options.onError?.(error);
      this.failed = true;
    }
  }

  private prepare(): void {
    if (this.prepared) return;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    this.prepared = true;
  }

  private open(): number {
    const fd = openSync(this.file, 'a', 0o600);
    // The mode of openSync applies only on creation: tighten a file that was created looser (or by an old version).
    if (process.platform !== 'win32' && (fstatSync(fd).mode & 0o077) !== 0) chmodSync(this.file, 0o600);
    return fd;
  }

  private rotate(): void {
    for (let i = this.keep; i >= 1; i--) {
      const from = i === 1 ? this.file : `${this.file}.${i - 1}`;
      try {
        renameSync(from, `${this.file}.${i}`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
}
