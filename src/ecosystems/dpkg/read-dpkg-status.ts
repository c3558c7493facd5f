import type { FoundPackage } from '../scanner.ts';
import { decodeText } from '../os-release/decode-text.ts';
import { parseControlStanzas } from './parse-control-stanzas.ts';

/**
 * dpkg package states whose files are all on disk (`dpkg-query` man page: the third word of
 * `Status:`). `not-installed`, `config-files` (only conffiles left) and `half-installed` (an unpack
 * that did not finish) are not reported.
 */
export const STATES_ON_DISK: ReadonlySet<string> = new Set(['installed', 'triggers-pending', 'triggers-awaited', 'half-configured', 'unpacked']);

/**
 * dpkg's version syntax: `[epoch:]upstream[-revision]`, the upstream part starting with a digit.
 * Only used to drop versions no comparator could read; ordering lives in the version scheme.
 */
const DPKG_VERSION = /^(?:\d+:)?[0-9][A-Za-z0-9.+~:-]*$/;

/** The packages of one dpkg status file (or one distroless `status.d` entry), and what was skipped. */
export interface DpkgStatus {
  packages: FoundPackage[];
  notes: string[];
}

/**
 * Reads a dpkg status file. Each stanza with a `Package` and a valid `Version` whose `Status`
 * state leaves its files on disk ({@link STATES_ON_DISK}; the want flag is ignored, so
 * `deinstall ok installed` still counts: the files are there) becomes a `dpkg` package:
 * - `sourceName`/`sourceVersion` from `Source: name (version)`, `Source: name` (the binary's
 *   version), or the binary's own name and version when there is no `Source`;
 * - `arch` from `Architecture`, `vendor` from `Maintainer`;
 * - a stanza without `Status` counts as installed (distroless and Bazel-built images omit it).
 * `extra.status` carries the `Status` value when it is not `install ok installed`. Invalid UTF-8
 * is decoded leniently and noted; vcpkg `Feature` stanzas are not packages; stanzas without a name or with a missing or invalid version
 * are skipped with a note. `purl` is left for the image view, which knows the distribution.
 */
export function readDpkgStatus(data: Uint8Array, path: string): DpkgStatus {
  const notes: string[] = [];
  const { text, lossy } = decodeText(data);
  if (lossy) notes.push(`${path} is not valid UTF-8; invalid bytes were replaced`);
  const { stanzas, problems } = parseControlStanzas(text);
  for (const problem of problems) notes.push(`${path}: ${problem}`);
  const packages: FoundPackage[] = [];
  let nameless = 0;
  const unreadableStatus: string[] = [];
  const noVersion: string[] = [];
  const badVersion: string[] = [];
  for (const stanza of stanzas) {
    const f = stanza.fields;
    const name = f.get('package');
    if (!name) {
      nameless++;
      continue;
    }
    // vcpkg keeps a dpkg-style status whose `Feature:` stanzas describe a port's features, not packages.
    if (f.has('feature')) continue;
    const status = f.get('status');
    if (status !== undefined) {
      const words = status.split(/\s+/);
      if (words.length !== 3) unreadableStatus.push(`${name} (${status})`);
      else if (!STATES_ON_DISK.has(words[2] as string)) continue;
    }
    const version = f.get('version');
    if (!version) {
      noVersion.push(name);
      continue;
    }
    if (!DPKG_VERSION.test(version)) {
      badVersion.push(`${name} ${version}`);
      continue;
    }
    const pkg: FoundPackage = { ecosystem: 'dpkg', name, version, path };
    const source = /^(\S+)(?:\s+\(([^)]+)\))?/.exec(f.get('source') ?? '');
    pkg.sourceName = source?.[1] ?? name;
    pkg.sourceVersion = source?.[2]?.trim() || version;
    const arch = f.get('architecture');
    if (arch) pkg.arch = arch;
    const maintainer = f.get('maintainer');
    if (maintainer) pkg.vendor = maintainer;
    if (status !== undefined && status !== 'install ok installed') pkg.extra = { status };
    packages.push(pkg);
  }
  if (nameless > 0) notes.push(`${path}: ${nameless} stanza${nameless === 1 ? '' : 's'} without a Package field skipped`);
  if (noVersion.length > 0) notes.push(`${path}: ${plural(noVersion.length)} without a Version skipped: ${sample(noVersion)}`);
  if (badVersion.length > 0) notes.push(`${path}: ${plural(badVersion.length)} with an invalid version skipped: ${sample(badVersion)}`);
  if (unreadableStatus.length > 0) notes.push(`${path}: ${plural(unreadableStatus.length)} with an unreadable Status counted as installed: ${sample(unreadableStatus)}`);
  return { packages, notes };
}

function plural(n: number): string {
  return n === 1 ? '1 package' : `${n} packages`;
}

/** The first few items, so a hostile file cannot make a note of unbounded length. */
function sample(items: string[]): string {
  const shown = items.slice(0, 5).map((s) => (s.length > 200 ? `${s.slice(0, 200)}…` : s));
  return items.length > shown.length ? `${shown.join(', ')}, …` : shown.join(', ');
}
