import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import * as path from 'node:path';
import { MAX_SOURCE_BYTES, secretText } from './text.js';

/** Why a secret file was refused; `problem` says what to do (never holds the content). */
export class SecretFileError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'SecretFileError';
  }
}

/**
 * Reads a secret file as ssh reads a private key: refused when group or others have any access or another user
 * (other than root) owns it, with the `chmod 600` fix; at most MAX_SOURCE_BYTES; one trailing newline stripped.
 * The checks run on the opened file, so a file swapped between check and read cannot pass.
 */
export async function readSecretFile(file: string, uid: number | undefined = process.getuid?.()): Promise<string> {
  if (!path.isAbsolute(file)) throw new SecretFileError(`"${file}" is not an absolute path; write the full path`);
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SecretFileError(`${file} does not exist; create it (mode 600) or fix the path`);
    if (code === 'EACCES') throw new SecretFileError(`${file} cannot be read by this user; check its owner and mode`);
    throw new SecretFileError(`${file} cannot be opened (${code ?? 'error'})`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new SecretFileError(`${file} is not a regular file`);
    if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) {
      throw new SecretFileError(
        `${file} is owned by another user (uid ${stat.uid}); only your own files are trusted: chown it to yourself`,
      );
    }
    if ((stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new SecretFileError(`permissions ${mode} for ${file} are too open (others can read or change it); run: chmod 600 ${file}`);
    }
    if (stat.size > MAX_SOURCE_BYTES)
      throw new SecretFileError(`${file} is larger than ${MAX_SOURCE_BYTES} bytes; it should hold only the secret`);
    const buffer = Buffer.alloc(MAX_SOURCE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_SOURCE_BYTES)
      throw new SecretFileError(`${file} is larger than ${MAX_SOURCE_BYTES} bytes; it should hold only the secret`);
    const text = secretText(buffer.subarray(0, bytesRead).toString('utf8'));
    buffer.fill(0);
    return text;
  } finally {
    await handle.close();
  }
}
