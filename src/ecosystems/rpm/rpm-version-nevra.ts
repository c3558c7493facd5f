import { InvalidVersionError } from '../version-scheme.ts';
import { compareRpmEvr, MAX_RPM_VERSION_LENGTH, parseRpmEvr, rpmvercmp, type RpmEvr } from './rpm-version.ts';

/** A full `name-[epoch:]version-release[.arch]` string (or a bare EVR/EVRA) split into its parts. */
export interface RpmNevra extends RpmEvr {
  name: string | null;
  arch: string | null;
  release: string;
}

/** Architecture suffixes recognised at the end of a release (nothing else tells them from a release part). */
export const RPM_ARCHES: ReadonlySet<string> = new Set(['aarch64', 'i386', 'i586', 'i686', 'noarch', 'ppc64le', 'ppc64', 's390x', 'src', 'x86_64', 'riscv64', 'armv7hl']);

/**
 * Parses `name-[epoch:]version-release[.arch]`, `[epoch:]version-release[.arch]` too: with two or
 * more `-` the text before the second-to-last one is the name; a known architecture after the
 * release's last `.` is the arch. A string without any `-` is not a NEVRA. Throws
 * `InvalidVersionError` on a malformed string.
 */
export function parseRpmNevra(input: string): RpmNevra {
  if (input.length > MAX_RPM_VERSION_LENGTH) throw new InvalidVersionError('rpm', input.slice(0, 64), 'NEVRA too long');
  const last = input.lastIndexOf('-');
  if (last === -1) throw new InvalidVersionError('rpm', input, 'a NEVRA needs version-release');
  const secondLast = input.lastIndexOf('-', last - 1);
  const name = secondLast === -1 ? null : input.slice(0, secondLast);
  if (name === '') throw new InvalidVersionError('rpm', input, 'empty package name');
  let evra = secondLast === -1 ? input : input.slice(secondLast + 1);
  let arch: string | null = null;
  const dot = evra.lastIndexOf('.');
  if (dot > evra.lastIndexOf('-') && RPM_ARCHES.has(evra.slice(dot + 1))) {
    arch = evra.slice(dot + 1);
    evra = evra.slice(0, dot);
  }
  const evr = parseRpmEvr(evra);
  if (typeof evr === 'string') throw new InvalidVersionError('rpm', input, evr);
  if (evr.release === null || evr.release === '') throw new InvalidVersionError('rpm', input, 'empty release');
  return { ...evr, release: evr.release, name, arch };
}

function comparePresent(a: string | null, b: string | null): -1 | 0 | 1 {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return rpmvercmp(a, b);
}

/**
 * Orders two NEVRA strings: name, epoch (missing = 0), version, release, arch. A missing name or
 * arch sorts before a present one, so `1-1 < 1-1.x86_64` and `1-1 < a-1-1`.
 */
export function compareRpmNevra(a: string, b: string): -1 | 0 | 1 {
  const x = parseRpmNevra(a);
  const y = parseRpmNevra(b);
  return comparePresent(x.name, y.name) || compareRpmEvr(x, y) || comparePresent(x.arch, y.arch);
}
