/** A problem found in a config file, located by its JSON path (rendered with the file name by the loader). */
export interface ConfigFinding {
  /** JSON path from the root of the file, e.g. `['servers', 'github', 'env', 'TOKEN']`. */
  path: readonly PropertyKey[];
  /** What is wrong and what to do; never contains a config value. */
  message: string;
}

const plainKey = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Renders a JSON path as `servers.github.env.TOKEN`, `args[0]` or `servers["my.server"]`. */
function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && plainKey.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(top level)' : out;
}

/** One line `file: json.path: message`. */
export function formatFinding(file: string, finding: ConfigFinding): string {
  return `${file}: ${formatJsonPath(finding.path)}: ${finding.message}`;
}
