import { timingSafeEqual } from 'node:crypto';
import type { DialogField, FormValues } from '../dialog/template.js';
import { characterLength } from '../log/scrubber.js';
import { injectionProblem } from '../secrets/value-rules.js';

/** What a POST to the page asks for. */
export type PageAction = 'save' | 'cancel';

/** A form body, parsed: the CSRF token, the button pressed, and the values of the template's fields only. */
export interface PageForm {
  csrf: string | undefined;
  action: PageAction;
  /** Holds secrets: never log it. */
  values: FormValues;
}

/** True when `given` is exactly `expected`, compared in constant time. */
export function tokensMatch(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Why a request may not touch the page, or undefined when it may: the Host must be the page's own `127.0.0.1:<port>`
 * (a DNS-rebinding site sends its own name), and a POST must carry the page's own Origin (a form on any other site
 * sends that site's; a request without one is refused too).
 */
export function requestProblem(
  method: string,
  headers: { host?: string | undefined; origin?: string | undefined },
  origin: string,
): string | undefined {
  if (headers.host !== new URL(origin).host) return 'this page answers only at 127.0.0.1 under its own port';
  if (method === 'POST' && headers.origin !== origin) return 'the form was not sent from this page';
  return undefined;
}

/** Parses an `application/x-www-form-urlencoded` body, keeping only the fields the template declares. */
export function parseForm(body: string, fields: readonly DialogField[]): PageForm {
  const params = new URLSearchParams(body);
  const values: FormValues = {};
  for (const field of fields) {
    const value = params.get(field.name);
    if (value !== null) values[field.name] = value;
  }
  return { csrf: params.get('csrf') ?? undefined, action: params.get('action') === 'cancel' ? 'cancel' : 'save', values };
}

/**
 * The problems of submitted values, by field name (none: they may be stored): a required field left empty, a value
 * shorter than the field's `min_length` (the rule the native dialog applies), or one no environment variable can
 * hold (the keychain store's rule). The messages name the field, never the value.
 */
export function fieldProblems(fields: readonly DialogField[], values: FormValues): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const field of fields) {
    const value = values[field.name] ?? '';
    if (value.length === 0) {
      if (field.required !== false) problems[field.name] = 'This field is required.';
      continue;
    }
    if (field.min_length !== undefined && characterLength(value) < field.min_length) {
      problems[field.name] =
        `Enter at least ${field.min_length} characters: a shorter value cannot be told apart from ordinary text when it is scrubbed from what the server sends back.`;
      continue;
    }
    const problem = injectionProblem(value);
    if (problem) problems[field.name] = `This value cannot be passed to a server: ${problem}.`;
  }
  return problems;
}
