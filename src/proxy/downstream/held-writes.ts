import { withDeadline } from '../../timing/deadline.js';

/** How long `flush` waits for the writes under way when the proxy stops: one keychain call's timeout and a bit. */
const FLUSH_MS = 6000;

/**
 * Holds the source-cache writes of a proxy's start until its servers have started (`open`). On a cold start the
 * values read from op:// and command sources are written to the keychain cache; done at once, those writes (a
 * lock file, a keychain search and a write each, and gnome-keyring rewriting its file for every item) compete for
 * the CPU with the servers' own start-up and made a cold aggregate of 5 servers ready 150–260 ms later than one
 * with no cache (measured with bench/vault.mjs's setup). Nothing depends on a write being done early: the values
 * are already in hand, and a write that never happens only means the next start reads its source again.
 * `flush` opens the gate and waits (bounded) for every write, so a proxy that stops right after its start still
 * leaves its cache behind.
 */
export class HeldWrites {
  #open!: () => void;
  readonly #opened = new Promise<void>((resolve) => (this.#open = resolve));
  readonly #pending = new Set<Promise<void>>();

  /** Runs `write` once the gate is open (at once if it is); resolves when it is done (it never rejects). */
  run(write: () => Promise<void>): Promise<void> {
    const done = this.#opened.then(write).catch(() => undefined);
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done));
    return done;
  }

  /** Lets every held write go, and every later one run at once. */
  open(): void {
    this.#open();
  }

  /** Opens the gate and waits for every write under way, for at most `ms` milliseconds. */
  async flush(ms = FLUSH_MS): Promise<void> {
    this.open();
    await withDeadline(Promise.all([...this.#pending]), ms, () => undefined);
  }
}
