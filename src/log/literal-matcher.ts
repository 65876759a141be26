const TABLE_SIZE = 1 << 16;
const TABLE_MASK = TABLE_SIZE - 1;

function blockHash(text: string, end: number): number {
  return ((text.charCodeAt(end - 1) << 8) ^ text.charCodeAt(end)) & TABLE_MASK;
}

/** Where a pattern was found. */
export interface LiteralMatch {
  index: number;
  pattern: string;
}

/**
 * Finds the first occurrence of any of a fixed set of strings (Wu–Manber: a shift table over two-character
 * blocks). With patterns of length ≥ m it looks at about one position in m-1 of a text without matches, which
 * is what almost every message is: ≈5–10× faster than one big alternation regex on megabytes of text.
 */
export class LiteralMatcher {
  /** Length of the shortest pattern: no shorter text can match. */
  readonly window: number;
  private readonly shift: Uint8Array;
  /**
   * Patterns whose window ends with the block of that hash, longest first. A Map, not an array of TABLE_SIZE: it is
   * read only where the shift is 0 (rare in clean text), and a 64 Ki-slot array cost milliseconds to build at start.
   */
  private readonly candidates = new Map<number, string[]>();

  /** Builds the tables; every pattern must be at least 2 characters long. */
  constructor(patterns: readonly string[]) {
    if (patterns.some((pattern) => pattern.length < 2)) throw new RangeError('patterns must be at least 2 characters');
    this.window = patterns.length === 0 ? 0 : Math.min(...patterns.map((pattern) => pattern.length));
    this.shift = new Uint8Array(TABLE_SIZE).fill(Math.min(255, Math.max(1, this.window - 1)));
    const longestFirst = [...patterns].sort((a, b) => b.length - a.length);
    for (const pattern of longestFirst) {
      for (let end = 1; end < this.window; end++) {
        const hash = blockHash(pattern, end);
        this.shift[hash] = Math.min(this.shift[hash]!, this.window - 1 - end);
      }
      const hash = blockHash(pattern, this.window - 1);
      const list = this.candidates.get(hash);
      if (list) list.push(pattern);
      else this.candidates.set(hash, [pattern]);
    }
  }

  /** Index of the leftmost match at or after `from`, or -1. */
  indexIn(text: string, from = 0): number {
    return this.find(text, from)?.index ?? -1;
  }

  /** The leftmost match at or after `from`, and the longest pattern that matches there. */
  find(text: string, from = 0): LiteralMatch | undefined {
    if (this.window === 0) return undefined;
    const { shift, candidates, window } = this;
    for (let end = from + window - 1; end < text.length;) {
      const hash = ((text.charCodeAt(end - 1) << 8) ^ text.charCodeAt(end)) & TABLE_MASK;
      const step = shift[hash]!;
      if (step !== 0) {
        end += step;
        continue;
      }
      const start = end - window + 1;
      // Longest first: a longer pattern shares its window with the shorter ones that start it.
      for (const pattern of candidates.get(hash)!) if (text.startsWith(pattern, start)) return { index: start, pattern };
      end++;
    }
    return undefined;
  }
}
