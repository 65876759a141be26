import type { ToolFilter } from '../../config/schema.js';

/** A glob (`*` any run of characters, `?` one character) as an anchored regular expression. */
function globToRegExp(glob: string): RegExp {
  const source = [...glob].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`);
}

/** Decides whether a server's tool is exposed: it must match `allow` (when given) and must not match `deny`. */
export function toolPredicate(filter: ToolFilter | undefined): (name: string) => boolean {
  const allow = filter?.allow?.map(globToRegExp);
  const deny = filter?.deny?.map(globToRegExp) ?? [];
  return (name) => (allow === undefined || allow.some((pattern) => pattern.test(name))) && !deny.some((pattern) => pattern.test(name));
}
