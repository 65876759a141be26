import { endKeychainCalls } from '../secrets/calls-in-flight.js';

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function flushed(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    try {
      stream.write('', () => resolve());
    } catch {
      resolve(); // a closed stream has nothing left to flush
    }
  });
}

/**
 * Makes sure the process can end: a native keychain call still blocked (an unlock prompt nobody answers) would make
 * `process.exit()` wait for its worker thread forever. Such calls are ended; when one does not return within
 * `ms`, the process is ended by SIGKILL once stdout and stderr are flushed (the audit log is written
 * synchronously), with a line on stderr saying why. Resolves when the caller may exit normally.
 */
export async function endBlockedKeychainCalls(
  streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
  ms = 2000,
): Promise<void> {
  if (await endKeychainCalls(ms)) return;
  await flushed(streams.stdout);
  streams.stderr.write(
    "mcp-keyproxy: a keychain call is still waiting (a locked keychain's unlock prompt?) and cannot be " +
      'cancelled; ending the process.\n',
  );
  await flushed(streams.stderr);
  process.kill(process.pid, 'SIGKILL');
}
