import { homedir } from 'node:os';
import * as path from 'node:path';
import { platformStateDir } from '../config/paths.js';

/** File name of the current audit log; rotated files get `.1`, `.2`. */
const AUDIT_FILE_NAME = 'audit.jsonl';

/** The audit log path of this process (current platform, environment and home directory). */
export function defaultAuditPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = platformStateDir(process.platform, env, homedir());
  return process.platform === 'win32' ? path.win32.join(dir, AUDIT_FILE_NAME) : path.join(dir, AUDIT_FILE_NAME);
}

/** The files of one audit log, oldest first: `audit.jsonl.<keep>` … `audit.jsonl.1`, `audit.jsonl`. */
export function auditFiles(file: string, keep: number): string[] {
  return [...Array.from({ length: keep }, (_, i) => `${file}.${keep - i}`), file];
}
