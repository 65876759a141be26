import { createScanner } from 'jsonc-parser';

/** jsonc-parser's token kinds (its SyntaxKind is a const enum, which isolated modules cannot read). */
const SyntaxKind = {
  CloseBraceToken: 2,
  CloseBracketToken: 4,
  CommaToken: 5,
  LineCommentTrivia: 12,
  BlockCommentTrivia: 13,
  LineBreakTrivia: 14,
  Trivia: 15,
  EOF: 17,
} as const;

/**
 * `text` with its comments and trailing commas turned into spaces (line breaks kept), so JSON with comments, as
 * VS Code and Gemini write it, reads as JSON while every offset, line and column stays where the user sees it.
 */
export function blankJsoncSyntax(text: string): string {
  const scanner = createScanner(text, false);
  const blanks: Array<[number, number]> = [];
  let pendingComma: [number, number] | undefined;
  for (let kind = scanner.scan(); kind !== SyntaxKind.EOF; kind = scanner.scan()) {
    const at: [number, number] = [scanner.getTokenOffset(), scanner.getTokenOffset() + scanner.getTokenLength()];
    switch (kind) {
      case SyntaxKind.LineCommentTrivia:
      case SyntaxKind.BlockCommentTrivia:
        blanks.push(at);
        break;
      case SyntaxKind.Trivia:
      case SyntaxKind.LineBreakTrivia:
        break;
      case SyntaxKind.CommaToken:
        pendingComma = at;
        break;
      default:
        // A comma followed by a closing bracket is a trailing comma; any other token makes it an ordinary one.
        if (pendingComma && (kind === SyntaxKind.CloseBraceToken || kind === SyntaxKind.CloseBracketToken)) blanks.push(pendingComma);
        pendingComma = undefined;
    }
  }
  if (blanks.length === 0) return text;
  let out = '';
  let from = 0;
  // A trailing comma is found after the comments that follow it.
  for (const [start, end] of blanks.sort((a, b) => a[0] - b[0])) {
    out += text.slice(from, start) + text.slice(start, end).replace(/[^\r\n]/g, ' ');
    from = end;
  }
  return out + text.slice(from);
}
