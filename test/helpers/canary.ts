/** Every form in which a value could leak: raw, base64, base64url, percent-encoded, JSON-escaped. */
export function leakForms(value: string): string[] {
  return [
    value,
    Buffer.from(value).toString('base64').replace(/=+$/, ''),
    Buffer.from(value).toString('base64url'),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
  ];
}

/** Fails, naming `where` (never the value), when any form of any canary occurs in `text`. */
export function expectNoCanary(where: string, text: string, canaries: readonly string[]): void {
  for (const canary of canaries) {
    for (const form of leakForms(canary)) {
      if (text.includes(form)) throw new Error(`a canary secret leaked into ${where}`);
    }
  }
}
