import { createRequire } from 'node:module';

/** The package version, from package.json. */
export const packageVersion: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
