import { createHash } from 'node:crypto';
import type { DialogField, FormTemplate } from '../dialog/template.js';

/** The page's only style sheet, inline; the Content-Security-Policy allows exactly this text by its hash. */
const STYLE = `
body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d2430}
main{max-width:34rem;margin:2.5rem auto;background:#fff;border:1px solid #d7dbe2;border-radius:10px;padding:1.5rem 2rem}
h1{font-size:1.25rem;margin:0 0 .75rem}
p{margin:.5rem 0}
.code{margin:1rem 0;padding:.75rem 1rem;border:2px solid #2f5fd0;border-radius:8px;background:#eef3ff}
.code b{display:block;font:700 1.9rem/1.2 ui-monospace,"SFMono-Regular",Menlo,monospace;letter-spacing:.12em}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
.optional{font-weight:400;color:#5b6472}
input{box-sizing:border-box;width:100%;font:inherit;padding:.45rem .6rem;border:1px solid #9aa3b2;border-radius:6px}
.help{font-size:.875rem;color:#5b6472;margin:.25rem 0 0}
.problem{color:#b3261e;font-weight:600}
.buttons{display:flex;gap:.75rem;justify-content:flex-end;margin-top:1.5rem}
button{font:inherit;padding:.5rem 1.1rem;border-radius:6px;border:1px solid #9aa3b2;background:#fff}
button.primary{background:#2f5fd0;border-color:#2f5fd0;color:#fff}
.small{font-size:.8rem;color:#5b6472;margin-top:1.25rem}
`;

/** The CSP source that allows {@link STYLE} and nothing else. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/**
 * The page's Content-Security-Policy: no script at all, no fetches, no images or fonts from anywhere, the one inline
 * style by hash, forms only to this origin, never framed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src ${STYLE_HASH}`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What the form page shows besides the template: where it posts, its CSRF token, and problems of a refused submit. */
export interface FormPageContext {
  /** The form's action: the page's own path. */
  action: string;
  /** The CSRF token, in a hidden field. */
  csrfToken: string;
  /** Minutes the link stays valid, said in the page. */
  minutes: number;
  /** Problems by field name (from a refused submit), shown under the fields. */
  problems?: Record<string, string>;
  /** A problem of the whole submit (the keychain refused the value). */
  error?: string;
}

const INPUT_TYPES: Record<NonNullable<DialogField['field_type']>, string> = {
  text: 'text',
  password: 'password',
  url: 'url',
  email: 'email',
};

function fieldHtml(field: DialogField, index: number, problem: string | undefined): string {
  const id = `f${index}`;
  const type = INPUT_TYPES[field.field_type ?? 'password'];
  const required = field.required !== false;
  const attrs = [
    `id="${id}"`,
    `name="${escapeHtml(field.name)}"`,
    `type="${type}"`,
    // Keys are not for a password manager to remember, nor for a spell checker to send anywhere.
    'autocomplete="off"',
    'spellcheck="false"',
    'autocapitalize="off"',
    required ? 'required' : '',
    field.min_length ? `minlength="${field.min_length}"` : '',
    field.help_text ? `aria-describedby="${id}-help"` : '',
    // Never a prefilled password: the builders leave it out, and this page would not show one either.
    field.default !== undefined && type !== 'password' ? `value="${escapeHtml(field.default)}"` : '',
  ].filter(Boolean);
  return [
    `<label for="${id}">${escapeHtml(field.label ?? field.name)}${required ? '' : ' <span class="optional">(optional)</span>'}</label>`,
    `<input ${attrs.join(' ')}>`,
    field.help_text ? `<p class="help" id="${id}-help">${escapeHtml(field.help_text)}</p>` : '',
    problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : '',
  ].join('\n');
}

function document(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** The form: title, description, the verification code, one input per field, Save and Cancel. */
export function formPage(template: FormTemplate, context: FormPageContext): string {
  const paragraphs = (template.description ?? '')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => `<p>${escapeHtml(line)}</p>`);
  const fields = template.fields.map((field, index) => fieldHtml(field, index, context.problems?.[field.name]));
  return document(
    template.title,
    [
      `<h1>${escapeHtml(template.title)}</h1>`,
      ...paragraphs,
      `<div class="code" id="verification-code">Verification code <b>${escapeHtml(template.verification_code)}</b></div>`,
      context.error ? `<p class="problem" role="alert">${escapeHtml(context.error)}</p>` : '',
      `<form method="post" action="${escapeHtml(context.action)}">`,
      `<input type="hidden" name="csrf" value="${escapeHtml(context.csrfToken)}">`,
      ...fields,
      '<div class="buttons">',
      '<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>',
      '<button type="submit" name="action" value="save" class="primary">Save to keychain</button>',
      '</div>',
      '</form>',
      `<p class="small">Served by mcp-keyproxy on this computer (127.0.0.1). This link works once and expires ${context.minutes} minutes after it was made. What you type goes to your OS keychain and nowhere else.</p>`,
    ]
      .filter(Boolean)
      .join('\n'),
  );
}

/** A page with one heading and one message (stored, cancelled, expired, refused). */
export function messagePage(title: string, message: string): string {
  return document(title, `<h1>${escapeHtml(title)}</h1>\n<p id="message">${escapeHtml(message)}</p>`);
}
