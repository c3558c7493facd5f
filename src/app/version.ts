import { readFileSync } from 'node:fs';

/** Lookout's version, from package.json (read once). */
export const LOOKOUT_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
