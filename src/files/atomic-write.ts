type WriteFileAtomic = typeof import('write-file-atomic');

/**
 * Replaces `file` with `text` atomically (write-file-atomic: a temp file beside it, fsync, rename; the mode and
 * owner kept, a symlink followed), so a crash at any moment leaves the old file or the new one, never half of one.
 * `mode` sets the mode of the new file. The library loads on the first write: most starts write nothing.
 */
export async function writeFileAtomic(file: string, text: string, mode?: number): Promise<void> {
  const imported: WriteFileAtomic & { default?: WriteFileAtomic } = await import('write-file-atomic');
  const write = imported.default ?? imported;
  await write(file, text, { fsync: true, ...(mode === undefined ? {} : { mode }) });
}
