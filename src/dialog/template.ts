import type { SecretDeclaration } from '../config/schema.js';
import { MIN_STORED_LENGTH } from '../log/scrubber.js';
import { DEFAULT_PROFILE } from '../config/profile.js';

/** How a dialog field is shown and validated (native-dialog/README.md). */
export type DialogFieldType = 'text' | 'password' | 'url' | 'email';

/** One labelled entry of a form dialog. */
export interface DialogField {
  name: string;
  label?: string;
  field_type?: DialogFieldType;
  required?: boolean;
  /** Fewest characters a non-empty value may have: shorter, the dialog says so under the field and OK stays off. */
  min_length?: number;
  /** Prefilled value; the builders never set it on password fields. */
  default?: string;
  help_text?: string;
}

/** What every dialog shows. */
interface TemplateBase {
  title: string;
  description?: string;
  verification_code: string;
  /** Seconds until the dialog gives up on its own (exit 2). */
  timeout_s?: number;
}

/** A dialog that asks for values. */
export interface FormTemplate extends TemplateBase {
  mode?: 'form';
  fields: DialogField[];
}

/** A dialog with four buttons: Deny, Allow always, Allow for session, Allow once. */
export interface ConfirmTemplate extends TemplateBase {
  mode: 'confirm';
}

/** The JSON a dialog program reads on stdin. */
export type DialogTemplate = FormTemplate | ConfirmTemplate;

/** The answer to a confirm dialog. */
export type ConsentDecision = 'once' | 'session' | 'always' | 'deny';

/** What a form dialog returns: one value per field name. Holds secrets: never log it. */
export type FormValues = Record<string, string>;

/** How a dialog request ended. `cancelled` covers Cancel, Escape, a closed window and an aborted request. */
export type DialogOutcome =
  | { kind: 'submitted'; values: FormValues }
  | { kind: 'confirmed'; decision: ConsentDecision }
  | { kind: 'cancelled' }
  | { kind: 'failed'; message: string };

/** Seconds a credentials dialog stays open: long enough to look a key up in another window. */
export const FORM_TIMEOUT_S = 600;
/** Seconds a consent dialog stays open. */
export const CONSENT_TIMEOUT_S = 120;

/** Optional context shown in the dialogs. */
export interface TemplateContext {
  /** The MCP client's name (its `clientInfo.name`), to say which app is asking. Untrusted: shown bounded, on one line. */
  clientName?: string;
  /** The credential profile, named in the title unless it is the default one. */
  profile?: string;
}

/** ` (profile NAME)` for a title, or nothing for the default profile. */
function profileNote(context: TemplateContext): string {
  return context.profile === undefined || context.profile === DEFAULT_PROFILE ? '' : ` (profile ${context.profile})`;
}

/** Longest client name shown, in characters: the client chooses it, so it gets a short line and no more. */
const CLIENT_NAME_MAX = 60;

/** True for a confirm template. */
export function isConfirmTemplate(template: DialogTemplate): template is ConfirmTemplate {
  return template.mode === 'confirm';
}

/**
 * The client's name as one line of plain text: control, format (bidi overrides, zero-width) and line-separator
 * characters become spaces, and it is cut at {@link CLIENT_NAME_MAX}. Undefined when nothing printable is left.
 */
function shownClientName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  const line = name
    .replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...line];
  if (chars.length === 0) return undefined;
  if (chars.length <= CLIENT_NAME_MAX) return line;
  const cut = chars.slice(0, CLIENT_NAME_MAX - 1).join('');
  return `${cut.trimEnd()}…`;
}

function requester(context: TemplateContext): string {
  const name = shownClientName(context.clientName);
  return name ? `Your AI app (${name})` : 'Your AI app';
}

/** One field per secret name, in the given order; a name without a declaration gets a required password field. */
function fieldFor(name: string, declaration: Partial<SecretDeclaration> | undefined): DialogField {
  const fieldType = declaration?.field_type ?? 'password';
  const field: DialogField = {
    name,
    label: declaration?.label || name,
    field_type: fieldType,
    required: declaration?.required ?? true,
    // A stored value must be long enough to scrub (README "Audit log and leak guards").
    min_length: MIN_STORED_LENGTH,
  };
  // A prefilled password would sit in the window for anyone looking at the screen.
  if (fieldType !== 'password' && declaration?.default !== undefined) field.default = declaration.default;
  if (declaration?.help_text) field.help_text = declaration.help_text;
  return field;
}

/** The form that asks for the missing credentials `names` of one server. */
export function credentialTemplate(
  serverName: string,
  declarations: Record<string, Partial<SecretDeclaration>>,
  names: readonly string[],
  code: string,
  context: TemplateContext = {},
): FormTemplate {
  const plural = names.length === 1 ? 'a credential' : 'credentials';
  return {
    title: `mcp-keyproxy: credentials for ${serverName}${profileNote(context)}`,
    description:
      `${requester(context)} wants to use the MCP server "${serverName}", which needs ${plural}. ` +
      'mcp-keyproxy, a program on this computer, keeps them in your OS keychain; the AI app never sees them.\n' +
      'Only continue if the verification code below matches the one shown in your AI app.',
    verification_code: code,
    fields: names.map((name) => fieldFor(name, declarations[name])),
    timeout_s: FORM_TIMEOUT_S,
  };
}

/** The confirm dialog that asks whether the stored secrets `secretNames` may be given to a server. */
export function consentTemplate(
  serverName: string,
  secretNames: readonly string[],
  code: string,
  context: TemplateContext = {},
): ConfirmTemplate {
  return {
    mode: 'confirm',
    title: `mcp-keyproxy: allow ${serverName} to use its credentials${profileNote(context)}?`,
    description:
      `${requester(context)} wants to start the MCP server "${serverName}". mcp-keyproxy will give it these ` +
      `secrets (from your OS keychain or the sources its config names): ${secretNames.join(', ')}.\n` +
      'Allow once: this start only. Allow for session: until mcp-keyproxy exits. Allow always: until this server, ' +
      'its command or its secrets change, or until "mcp-keyproxy consent revoke". Deny: the server does not start.\n' +
      'Only allow if the verification code below matches the one shown in your AI app.',
    verification_code: code,
    timeout_s: CONSENT_TIMEOUT_S,
  };
}
