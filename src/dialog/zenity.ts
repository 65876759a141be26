import { endedEarly, firstLine, spawnDialog, type ProgramOutcome, type PromptOptions } from './program.js';
import type { ConfirmTemplate, DialogField, DialogTemplate, FormTemplate, FormValues } from './template.js';

/** Separates values in zenity's output: a control character nobody types into a key field. */
export const ZENITY_SEPARATOR = '\x1f';
const ZENITY_TIMEOUT_EXIT = 5;
const SESSION_LABEL = 'Allow for session';
const ALWAYS_LABEL = 'Allow always';
const DEFAULT_TIMEOUT_S = 3600;
const WIDTH = '480';
/**
 * zenity sizes its window to the longest line of its text (forms do not wrap at all, and --width is only a
 * minimum), so a paragraph of description made it 1,500 px wide and pushed OK off a 1280 px screen. Texts are
 * wrapped here at this many characters, which stays within {@link WIDTH} pixels in the default font.
 */
export const WRAP_COLUMNS = 56;
/** Longer field labels are cut: zenity puts them in one column beside the entries. */
const MAX_LABEL = 48;

// zenity takes its texts on argv (only labels and the code, never a value); control characters there would be
// rejected by spawn (NUL) or break the markup parser.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;
const clean = (text: string): string => text.replace(CONTROL, ' ');

/**
 * Wraps each line of `text` at spaces to at most `columns` characters (code points); a word longer than that is
 * cut. Existing line breaks are kept.
 */
export function wrapText(text: string, columns = WRAP_COLUMNS): string {
  return text
    .split('\n')
    .map((line) => {
      const lines: string[] = [];
      let current = '';
      for (const word of line.split(' ').filter(Boolean)) {
        const chars = Array.from(word);
        for (let start = 0; start < chars.length; start += columns) {
          const piece = chars.slice(start, start + columns).join('');
          if (current === '') current = piece;
          else if (Array.from(current).length + 1 + Array.from(piece).length <= columns) current += ` ${piece}`;
          else {
            lines.push(current);
            current = piece;
          }
        }
      }
      return [...lines, current].join('\n');
    })
    .join('\n');
}

/** Text for zenity's forms `--text`, which it unescapes (g_strcompress) and then parses as Pango markup. */
export function zenityMarkup(text: string): string {
  const markup = wrapText(clean(text)).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return markup.replace(/\\/g, '\\\\');
}

function fieldLabel(field: DialogField): string {
  let label = field.label || field.name;
  if (field.required) label += ' *';
  // zenity cannot prefill an entry, so the default is applied when the entry is left empty (see parseZenityForm).
  if (field.default !== undefined && field.field_type !== 'password') label += ` (empty: ${field.default})`;
  const chars = Array.from(clean(label));
  return chars.length > MAX_LABEL ? `${chars.slice(0, MAX_LABEL - 1).join('')}…` : chars.join('');
}

/** The argv of a zenity form for the template; `problem` is shown above the fields after an invalid submit. */
export function zenityFormArgs(template: FormTemplate, timeoutS: number, problem?: string): string[] {
  const parts = [`<span size="x-large" weight="bold">${zenityMarkup(`Verification code: ${template.verification_code}`)}</span>`];
  if (template.description) parts.push(zenityMarkup(template.description));
  const help = template.fields.filter((f) => f.help_text).map((f) => `${f.label || f.name}: ${f.help_text}`);
  if (help.length) parts.push(zenityMarkup(help.join('\n')));
  if (template.fields.some((f) => f.required)) parts.push(zenityMarkup('* required'));
  if (problem) parts.push(`<span foreground="#c01c28">${zenityMarkup(problem)}</span>`);
  const fields = template.fields.map((f) =>
    f.field_type === 'password' ? `--add-password=${fieldLabel(f)}` : `--add-entry=${fieldLabel(f)}`,
  );
  return [
    '--forms',
    `--title=${clean(template.title)}`,
    `--text=${parts.join('\n\n')}`,
    ...fields,
    `--separator=${ZENITY_SEPARATOR}`,
    `--timeout=${timeoutS}`,
    `--width=${WIDTH}`,
  ];
}

/** The argv of a zenity question that stands in for the confirm dialog, with the same four answers. */
export function zenityConfirmArgs(template: ConfirmTemplate, timeoutS: number): string[] {
  const text = [`Verification code: ${template.verification_code}`, template.description ?? ''].join('\n\n');
  return [
    '--question',
    '--no-markup',
    `--title=${clean(template.title)}`,
    `--text=${wrapText(clean(text))}`,
    '--ok-label=Allow once',
    // In the GTK dialog's order: Deny, Allow always, Allow for session, Allow once.
    `--extra-button=${ALWAYS_LABEL}`,
    `--extra-button=${SESSION_LABEL}`,
    '--cancel-label=Deny',
    '--default-cancel',
    `--timeout=${timeoutS}`,
    `--width=${WIDTH}`,
  ];
}

/**
 * Reads zenity's form output: the values in field order joined by {@link ZENITY_SEPARATOR}, then one newline.
 * A value holding the separator would shift every later value, so any count but the expected one is refused.
 */
export function parseZenityForm(template: FormTemplate, stdout: string): { values: FormValues } | { error: string } {
  const body = stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
  const parts = body.split(ZENITY_SEPARATOR);
  if (parts.length !== template.fields.length) {
    return { error: 'a value holds a control character (U+001F) that the zenity dialog cannot return' };
  }
  const entries = template.fields.map((field, i): [string, string] => {
    const value = parts[i] ?? '';
    const fallback = field.field_type === 'password' ? undefined : field.default;
    return [field.name, value === '' && fallback !== undefined ? fallback : value];
  });
  return { values: Object.fromEntries(entries) };
}

function isHttpUrl(text: string): boolean {
  if (/\s/.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The first rule a value breaks (required, url, email), as the native dialog checks them; undefined when valid. */
export function invalidValue(template: FormTemplate, values: FormValues): string | undefined {
  for (const field of template.fields) {
    const value = values[field.name] ?? '';
    const label = field.label || field.name;
    if (field.required && value === '') return `Fill in "${label}".`;
    if (value !== '' && field.field_type === 'url' && !isHttpUrl(value)) {
      return `"${label}": enter an http:// or https:// URL.`;
    }
    if (value !== '' && field.field_type === 'email' && !/^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$/.test(value)) {
      return `"${label}": enter an email address.`;
    }
  }
  return undefined;
}

/** Runs zenity for a template; an invalid form is shown again (same code) with the problem above the fields. */
export async function promptZenity(
  file: string,
  env: NodeJS.ProcessEnv,
  template: DialogTemplate,
  options: PromptOptions,
): Promise<ProgramOutcome> {
  const deadline = Date.now() + (template.timeout_s ?? DEFAULT_TIMEOUT_S) * 1000;
  let problem: string | undefined;
  for (;;) {
    const timeoutS = Math.ceil((deadline - Date.now()) / 1000);
    if (timeoutS <= 0) return { kind: 'failed', message: 'the dialog timed out' };
    const args = template.mode === 'confirm' ? zenityConfirmArgs(template, timeoutS) : zenityFormArgs(template, timeoutS, problem);
    const running = spawnDialog({ file, args, env }, '', timeoutS, options);
    if (!running) return { kind: 'cancelled' };
    const result = await running;
    const ended = endedEarly(result, file);
    if (ended) return ended;
    if (result.exitCode === ZENITY_TIMEOUT_EXIT) return { kind: 'failed', message: 'the dialog timed out' };
    if (template.mode === 'confirm') {
      if (result.exitCode === 0) return { kind: 'confirmed', decision: 'once' };
      // zenity prints the label of an extra button and exits 1; Deny, Escape and closing print nothing.
      if (result.exitCode === 1) {
        const button = result.stdout.trim();
        return { kind: 'confirmed', decision: button === SESSION_LABEL ? 'session' : button === ALWAYS_LABEL ? 'always' : 'deny' };
      }
    } else {
      if (result.exitCode === 1) return { kind: 'cancelled' };
      if (result.exitCode === 0) {
        const parsed = parseZenityForm(template, result.stdout);
        if ('error' in parsed) return { kind: 'failed', message: `the dialog failed: ${parsed.error}` };
        problem = invalidValue(template, parsed.values);
        if (!problem) return { kind: 'submitted', values: parsed.values };
        continue;
      }
    }
    const reason = firstLine(result.stderr) || `zenity exited with code ${String(result.exitCode)}`;
    return { kind: 'failed', message: `the dialog failed: ${reason}` };
  }
}
