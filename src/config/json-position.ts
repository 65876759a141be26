class SyntaxStop {
  constructor(readonly offset: number) {}
}

/**
 * Offset of the first JSON syntax error in `text`, or undefined when it is valid JSON.
 * Needed because V8 does not always report a position (e.g. "Unexpected token" in Node 20).
 */
export function jsonErrorOffset(text: string): number | undefined {
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
  const value = (): void => {
    skipSpace();
    const char = text[i];
    if (char === '{') {
      sequence('}', () => {
        string();
        skipSpace();
        expect(':');
        value();
      });
    } else if (char === '[') {
      sequence(']', value);
    } else if (char === '"') {
      string();
    } else {
      const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
      literal.lastIndex = i;
      if (!literal.test(text)) fail();
      i = literal.lastIndex;
    }
  };
  try {
    value();
    skipSpace();
    if (i < text.length) fail();
    return undefined;
  } catch (stop) {
    if (stop instanceof SyntaxStop) return stop.offset;
    throw stop;
  }
}
