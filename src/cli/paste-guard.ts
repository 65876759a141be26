/** What a terminal in bracketed-paste mode puts around pasted text. */
const PASTE_START = '\u001b[200~';
const PASTE_END = '\u001b[201~';
/** The end of a read that may be the first part of a paste marker, split between two reads. */
// eslint-disable-next-line no-control-regex -- terminal escape sequences are what this matches
const PARTIAL_MARKER = /\u001b\[(?:2(?:0[01]?)?)?$/;
/** A line break with more input after it, in one read: a paste (no one types that fast). */
const BREAK_THEN_MORE = /[\r\n][^\r\n]/;

/**
 * Filters what a terminal sends to a one-line secret prompt: passes typing and one-line pastes through (a paste
 * ending with a line break submits, as typing Enter would), turns Ctrl-D into Enter, and refuses a paste of several
 * lines, whether the terminal marks pastes (bracketed paste) or sends them unmarked in one read.
 */
export class PasteGuard {
  /** True once a multi-line paste was seen; nothing passes after that. */
  refused = false;
  private pasting = false;
  private pasted = '';
  private held = '';

  constructor(private readonly onRefused: () => void) {}

  /** The part of `chunk` to hand to the line editor. */
  filter(chunk: string): string {
    let rest = this.held + chunk;
    this.held = '';
    let out = '';
    while (rest.length > 0 && !this.refused) {
      if (this.pasting) {
        // Searched together with what came before: the end marker may be split between two reads.
        const pasted = this.pasted + rest;
        const end = pasted.indexOf(PASTE_END);
        if (end < 0) {
          this.pasted = pasted;
          // Already several lines: refuse now (the prompt reads the rest of the paste away).
          if (BREAK_THEN_MORE.test(pasted)) return this.refuse();
          break;
        }
        this.pasted = pasted.slice(0, end);
        rest = pasted.slice(end + PASTE_END.length);
        this.pasting = false;
        out += this.endOfPaste();
        continue;
      }
      const start = rest.indexOf(PASTE_START);
      let typed = start < 0 ? rest : rest.slice(0, start);
      rest = start < 0 ? '' : rest.slice(start + PASTE_START.length);
      if (start < 0) {
        const partial = PARTIAL_MARKER.exec(typed);
        if (partial) {
          this.held = partial[0];
          typed = typed.slice(0, partial.index);
        }
      } else {
        this.pasting = true;
        this.pasted = '';
      }
      if (BREAK_THEN_MORE.test(typed)) return this.refuse();
      out += typed.replaceAll('\u0004', '\r');
    }
    return this.refused ? '' : out;
  }

  private endOfPaste(): string {
    const content = this.pasted.replace(/[\r\n]+$/, '');
    if (/[\r\n]/.test(content)) return this.refuse();
    return content.length < this.pasted.length ? `${content}\r` : content;
  }

  private refuse(): string {
    if (!this.refused) {
      this.refused = true;
      this.onRefused();
    }
    return '';
  }
}

/** One key of terminal input: an escape sequence (CSI, SS3, Alt+key), else one character. */
// eslint-disable-next-line no-control-regex -- terminal escape sequences are what this matches
const KEY = /\u001b\[[0-?]*[ -/]*[@-~]|\u001bO.|\u001b[\s\S]|[\s\S]/gu;

/**
 * `text` cut into single keys. Node 20's readline inserts a multi-character read typed away from the end of the
 * line out of order ("token", Home, "my-" gives "to-kenmy"); one key per read does not.
 */
export function splitKeys(text: string): string[] {
  return text.match(KEY) ?? [];
}
