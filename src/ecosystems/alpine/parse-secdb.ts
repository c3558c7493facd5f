import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { selectJson } from '../debian/select-json.ts';
import type { VulnerabilityRecord } from '../vulnerability-record.ts';

/** How the records of one secdb file are labelled. */
export interface SecdbOptions {
  /** The `updater` field of the records (`alpine`, `wolfi`, `chainguard`). */
  updater: string;
  /** The release key (`alpine:3.19`, `wolfi:rolling`). */
  distribution: string;
  /** The repository column (`main`, `community`), or null when the feed is not scoped by one. */
  repository: string | null;
  /** What the input is, for error messages. */
  what: string;
  /** The advisory page for an id, when the vendor has one. */
  link?: (id: string) => string | null;
}

const MAX_PACKAGE_NAME = 256;
const VERSION = /^[^\s/]{1,128}$/;
const ID = /^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/**
 * The vulnerability ids of one secfixes entry. An entry is usually one id, sometimes several
 * separated by blanks (`"CVE-2018-7540 XSA-252"`); the first CVE id names the record and the rest
 * become aliases. Words that are not ids (comments) are dropped.
 */
export function secfixIds(entry: string): { name: string; aliases: string[] } | null {
  const ids = entry
    .split(/\s+/)
    .map((w) => w.replace(/^[([]+|[)\],;]+$/g, ''))
    .filter((w) => w.length <= 64 && ID.test(w));
  if (ids.length === 0) return null;
  const cve = ids.find((id) => id.startsWith('CVE-')) ?? ids[0]!;
  return { name: cve, aliases: ids.filter((id) => id !== cve) };
}

/**
 * Parses an Alpine-style security database (`{packages: [{pkg: {name, secfixes: {version: [ids]}}}]}`,
 * as secdb.alpinelinux.org, Wolfi and Chainguard publish it), streaming one package at a time.
 * Yields one record per (package, id, version): ecosystem `apk`, packageKind `source` (secdb names
 * origin packages), state `fixed` with that version, or `not_affected` for version `0`. The feed
 * has no severities (Unknown). An empty `packages` (`[]` or `{}`) yields nothing; entries of the
 * wrong shape throw {@link FeedParseError}.
 */
export async function* parseSecdb(input: AsyncIterable<Buffer | string>, options: SecdbOptions): AsyncGenerator<VulnerabilityRecord> {
  const { what } = options;
  let sawPackages = false;
  const select = (p: readonly (string | number)[]): boolean => {
    if (p.length === 1 && p[0] === 'packages') sawPackages = true;
    return p.length === 2 && p[0] === 'packages';
  };
  for await (const { value } of selectJson(input, { what, select })) {
    const pkg = isObject(value) ? value.pkg : undefined;
    if (!isObject(pkg)) throw new FeedParseError(`${what}: a packages entry without a pkg object`);
    const name = pkg.name;
    if (typeof name !== 'string' || name === '' || name.length > MAX_PACKAGE_NAME || /\s/.test(name)) {
      throw new FeedParseError(`${what}: a package without a valid name (${JSON.stringify(String(name).slice(0, 100))})`);
    }
    const secfixes = pkg.secfixes;
    if (secfixes === undefined || secfixes === null) continue;
    if (!isObject(secfixes)) throw new FeedParseError(`${what}: ${name} secfixes is not an object`);
    for (const [version, ids] of Object.entries(secfixes)) {
      if (!VERSION.test(version)) throw new FeedParseError(`${what}: ${name} has an invalid version ${JSON.stringify(version.slice(0, 140))}`);
      if (ids === null || (isObject(ids) && Object.keys(ids).length === 0)) continue;
      if (!Array.isArray(ids)) throw new FeedParseError(`${what}: ${name} ${version} is not a list of ids`);
      const notAffected = version === '0';
      for (const entry of ids) {
        if (typeof entry !== 'string') throw new FeedParseError(`${what}: ${name} ${version} has an id that is not a string`);
        const parsed = secfixIds(entry);
        if (parsed === null) continue;
        const link = options.link?.(parsed.name) ?? null;
        yield {
          updater: options.updater,
          name: parsed.name,
          aliases: parsed.aliases,
          ecosystem: 'apk',
          distribution: options.distribution,
          repository: options.repository,
          module: null,
          packageName: name,
          packageKind: 'source',
          arch: null,
          affectedRange: null,
          fixedVersion: notAffected ? null : version,
          state: notAffected ? 'not_affected' : 'fixed',
          stateReason: null,
          vendorSeverity: null,
          normalizedSeverity: 'Unknown',
          severitySource: null,
          cvss: [],
          description: null,
          links: link === null ? [] : [link],
          publishedAt: null,
          modifiedAt: null,
        };
      }
    }
  }
  if (!sawPackages) throw new FeedParseError(`${what}: no packages list (not a security database)`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
