/** Writes one line of text for the person at the terminal (stderr: stdout belongs to the protocol). */
export type LineWriter = (line: string) => void;

/** Options of {@link openUrl}. */
export interface OpenUrlOptions {
  /** What the page is for, shown before the URL: "Log in to server notion", "Enter the key for server x". */
  purpose: string;
  /** Where the URL is printed; defaults to process.stderr. */
  write?: LineWriter;
  /** The opener; defaults to the `open` package (xdg-open, which honours $BROWSER; `open` on macOS; `start` on Windows). */
  opener?: (url: string) => Promise<unknown>;
}

/** What {@link openUrl} did: the URL is always printed; `opened` says whether a browser was asked to show it. */
export interface OpenUrlResult {
  opened: boolean;
  /** Why the browser could not be asked (no opener on this system, it failed to start); never a secret. */
  error?: string;
}

async function systemOpener(url: string): Promise<unknown> {
  // Loaded on first use: nothing on the start-up path pays for it. `open` rejects when the opener cannot start.
  const { default: open } = await import('open');
  return await open(url, { wait: false });
}

/**
 * Prints `url` (a page on the user's own machine or an authorization server; never one carrying a secret) to stderr
 * and asks the system to open it in the user's browser. A browser that cannot be opened is not an error: the person
 * can still copy the printed URL.
 */
export async function openUrl(url: string, options: OpenUrlOptions): Promise<OpenUrlResult> {
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  write(`${options.purpose}: open this URL in your browser (opening it now):\n  ${url}`);
  try {
    await (options.opener ?? systemOpener)(url);
    return { opened: true };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    write(`Could not open a browser (${reason}); open the URL above yourself.`);
    return { opened: false, error: reason };
  }
}
