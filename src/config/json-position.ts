class SyntaxStop {
  constructor(readonly offset: number) {}
}

/** Called for each object key as written: its object's path and opening offset, the key, its quote's offset. */
type KeyVisitor = (path: readonly PropertyKey[], object: number, key: string, offset: number) => void;

/** Walks `text` as JSON, calling `onKey` for every object key; throws `SyntaxStop` at the first syntax error. */
function scan(text: string, onKey?: KeyVisitor): void {
  let i = 0;
  const fail = (): never => {
    throw new SyntaxStop(i);
  };
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i += 1;
  };
  const expect = (char: string): void => {
    if (text[i] !== char) fail();
    i += 1;
  };
  const string = (): void => {
    expect('"');
    while (i < text.length) {
      const char = text[i] as string;
      if (char === '"') {
        i += 1;
        return;
      }
      if (char === '\\') {
        const next = text[i + 1] ?? '';
        if ('"\\/bfnrt'.includes(next) && next !== '') i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail();
      } else if (char < ' ') {
        fail();
      } else {
        i += 1;
      }
    }
    fail();
  };
  const sequence = (close: string, item: () => void): void => {
    i += 1;
    skipSpace();
    if (text[i] === close) {
      i += 1;
      return;
    }
    for (;;) {
      item();
      skipSpace();
      if (text[i] === ',') {
        i += 1;
        skipSpace();
      } else {
        expect(close);
        return;
      }
    }
  };
  const value = (path: readonly PropertyKey[]): void => {
    skipSpace();
    const char = text[i];
    if (char === '{') {
      const object = i;
      sequence('}', () => {
        const start = i;
        string();
        // The scanner checked the escapes, so JSON.parse decodes exactly this key.
        const key = onKey ? (JSON.parse(text.slice(start, i)) as string) : '';
        onKey?.(path, object, key, start);
        skipSpace();
        expect(':');
        value(onKey ? [...path, key] : path);
      });
    } else if (char === '[') {
      let index = 0;
      sequence(']', () => value(onKey ? [...path, index++] : path));
    } else if (char === '"') {
      string();
    } else {
      const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
      literal.lastIndex = i;
      if (!literal.test(text)) fail();
      i = literal.lastIndex;
    }
  };
  value([]);
  skipSpace();
  if (i < text.length) fail();
}

/**
 * Offset of the first JSON syntax error in `text`, or undefined when it is valid JSON.
 * Needed because V8 does not always report a position (e.g. "Unexpected token" in Node 20).
 */
export function jsonErrorOffset(text: string): number | undefined {
  try {
    scan(text);
    return undefined;
  } catch (stop) {
    if (stop instanceof SyntaxStop) return stop.offset;
    throw stop;
  }
}

/** The 1-based line and column of an offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/** A key that JSON.parse does not keep as written, with the offsets of where it appears. */
export interface JsonKeyProblem {
  /** `duplicate`: the object has this key twice and JSON.parse keeps the last; `proto`: the key is `__proto__`. */
  kind: 'duplicate' | 'proto';
  /** The key's JSON path: its object's path, then the key. */
  path: readonly PropertyKey[];
  /** Where the key is written (its opening quote); for a duplicate, where it is written again. */
  offset: number;
  /** For a duplicate: where the key was first written in the same object. */
  firstOffset?: number;
}

/**
 * Keys of valid JSON `text` that would silently disappear once parsed: a key repeated in one object (JSON.parse
 * keeps only the last) and `__proto__`, which object handling after JSON.parse treats as the prototype.
 */
export function jsonKeyProblems(text: string): JsonKeyProblem[] {
  const problems: JsonKeyProblem[] = [];
  // The keys of each object so far, by the offset of its "{" (two objects may share a path when a key repeats).
  const seen = new Map<number, Map<string, number>>();
  try {
    scan(text, (path, object, key, offset) => {
      const keys = seen.get(object) ?? new Map<string, number>();
      seen.set(object, keys);
      const first = keys.get(key);
      if (first === undefined) keys.set(key, offset);
      else problems.push({ kind: 'duplicate', path: [...path, key], offset, firstOffset: first });
      if (key === '__proto__') problems.push({ kind: 'proto', path: [...path, key], offset });
    });
  } catch (stop) {
    if (!(stop instanceof SyntaxStop)) throw stop;
  }
  return problems;
}
