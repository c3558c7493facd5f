import { normalizePypiName } from './pep503-name.ts';

/** The package URL of a PyPI distribution (`pkg:pypi/typing-extensions@4.4.0`). */
export function pypiPurl(name: string, version: string): string {
  return `pkg:pypi/${encodeURIComponent(normalizePypiName(name))}@${encodeURIComponent(version)}`;
}
