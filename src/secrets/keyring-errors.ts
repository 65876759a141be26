import { KeyproxyError } from '../errors.js';

const noSecretService =
  'No Secret Service is running, so there is no keychain to keep secrets in. Install and start gnome-keyring ' +
  "(or enable KeePassXC's Secret Service integration); on a headless machine run it under dbus-run-session, " +
  'for example `dbus-run-session -- sh -c \'printf %s "$PASSWORD" | gnome-keyring-daemon --unlock ' +
  "--components=secrets; exec mcp-keyproxy …'`. Then run `mcp-keyproxy doctor`.";

const noDefaultCollection =
  'The Secret Service has no default keyring (collection) to store secrets in. Create one and make it the ' +
  'default, for example in Seahorse ("Passwords and Keys") create a "login" keyring, or on a headless machine ' +
  'start gnome-keyring with `printf %s "$PASSWORD" | gnome-keyring-daemon --unlock --components=secrets`. ' +
  'Then run `mcp-keyproxy doctor`.';

const noSessionBus =
  'No D-Bus session bus is reachable (DBUS_SESSION_BUS_ADDRESS is unset or points nowhere), so the Secret ' +
  'Service keychain cannot be reached. Run mcp-keyproxy from your desktop session, or on a headless machine ' +
  'under `dbus-run-session -- …` with gnome-keyring started inside it. Then run `mcp-keyproxy doctor`.';

const locked =
  'The keychain is locked and could not be unlocked (the unlock prompt was dismissed or no display is ' +
  'available for it). Unlock it (for example log in to your desktop session, or unlock the "login" keyring in ' +
  'Seahorse) and try again, or run `mcp-keyproxy doctor`.';

const rules: ReadonlyArray<{ pattern: RegExp; code: KeyproxyError['code']; message: string }> = [
  { pattern: /not provided by any \.service files|ServiceUnknown/i, code: 'KEYCHAIN_UNAVAILABLE', message: noSecretService },
  { pattern: /unlock prompt was dismissed|IsLocked|is locked/i, code: 'KEYCHAIN_LOCKED', message: locked },
  { pattern: /no result found/i, code: 'KEYCHAIN_UNAVAILABLE', message: noDefaultCollection },
  {
    pattern: /DBUS_SESSION_BUS_ADDRESS|autolaunch|Failed to connect to (socket|address)|Connection refused/i,
    code: 'KEYCHAIN_UNAVAILABLE',
    message: noSessionBus,
  },
];

/** Removes every given value (and its JSON-escaped form) from a text, longest first. */
function redact(text: string, values: readonly string[]): string {
  let out = text;
  const forms = values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]).filter((v) => v.length > 0);
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) out = out.split(form).join('[redacted]');
  return out;
}

/**
 * Turns an error from @napi-rs/keyring (a plain Error with code GenericFailure, told apart by message) into a
 * KeyproxyError that says what to do. KeyproxyErrors pass through. `redact` lists values that must never appear.
 */
export function mapKeyringError(error: unknown, redactValues: readonly string[] = []): KeyproxyError {
  if (error instanceof KeyproxyError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  for (const rule of rules) {
    if (rule.pattern.test(raw)) return new KeyproxyError(rule.code, rule.message, { cause: error });
  }
  // The library's own words are the only clue for an unknown failure; they name no value, but scrub anyway.
  const detail = redact(raw.split('\n')[0] ?? '', redactValues).slice(0, 300);
  return new KeyproxyError(
    'KEYCHAIN_FAILED',
    `The keychain call failed (${detail || 'no details'}). Run \`mcp-keyproxy doctor\` to check the keychain.`,
    { cause: error },
  );
}
