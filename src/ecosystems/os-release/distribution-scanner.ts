import type { FoundDistribution, LayerFiles, Scanner, ScanResult } from '../scanner.ts';
import { decodeText } from './decode-text.ts';
import { parseOsRelease, MAX_RELEASE_FILE_BYTES } from './parse-os-release.ts';
import { parsePhotonRelease } from './parse-photon-release.ts';
import { parseRedhatRelease } from './parse-redhat-release.ts';
import type { RedhatRelease } from './parse-redhat-release.ts';
import { parseSuseRelease } from './parse-suse-release.ts';
import { resolveLinkTarget } from './resolve-link-target.ts';

/** os-release locations, in the specification's order of precedence. */
export const OS_RELEASE_PATHS = ['etc/os-release', 'usr/lib/os-release'] as const;

/**
 * Release files of the Red Hat family, most specific first: derivatives also ship a
 * `redhat-release` for compatibility (Oracle Linux's says "Red Hat Enterprise Linux"), so the
 * vendor's own file is believed before it.
 */
export const REDHAT_RELEASE_PATHS = [
  'etc/oracle-release',
  'etc/rocky-release',
  'etc/almalinux-release',
  'etc/centos-release',
  'etc/fedora-release',
  'etc/system-release',
  'etc/redhat-release',
] as const;

/** Every path the distribution scanner reads. */
export const DISTRIBUTION_PATHS: readonly string[] = [
  ...OS_RELEASE_PATHS,
  'etc/lsb-release',
  'etc/debian_version',
  'etc/alpine-release',
  ...REDHAT_RELEASE_PATHS,
  'etc/system-release-cpe',
  'etc/SuSE-release',
  'etc/photon-release',
];

/** The start of the note made when `etc/os-release` is a symbolic link in the layer. */
export const OS_RELEASE_LINK_NOTE = 'etc/os-release is a symbolic link to ';

/**
 * The note recording that `etc/os-release` is a symbolic link, in a fixed form the image view can
 * read back with {@link parseOsReleaseLinkNote}: `etc/os-release is a symbolic link to <target> (<resolved>)`.
 */
export function osReleaseLinkNote(target: string, resolved: string | null): string {
  return `${OS_RELEASE_LINK_NOTE}${target} (${resolved ?? 'unresolvable'})`;
}

/** The resolved layer path of an {@link osReleaseLinkNote}, or null for any other note. */
export function parseOsReleaseLinkNote(note: string): string | null {
  if (!note.startsWith(OS_RELEASE_LINK_NOTE)) return null;
  const m = /\(([^()]*)\)$/.exec(note);
  return m && m[1] !== 'unresolvable' ? (m[1] as string) : null;
}

/**
 * Identifies the distribution release of a layer from whichever release files it carries, and
 * reports at most one distribution (merged from several files).
 *
 * Precedence, first that names a distribution wins as the base (`path` says which):
 * 1. os-release: `etc/os-release`; when that is a symbolic link, its target if the target is in
 *    the same layer; then `usr/lib/os-release`. A link is always recorded as a note
 *    ({@link osReleaseLinkNote}) so the image view can follow it into another layer.
 * 2. the Red Hat family release files, vendor-specific first ({@link REDHAT_RELEASE_PATHS});
 * 3. `etc/SuSE-release` (SLES 11/12, old openSUSE), then `etc/photon-release`;
 * 4. `etc/lsb-release` (Ubuntu 10.04 has no os-release);
 * 5. `etc/debian_version`, then `etc/alpine-release`.
 * Files lower in the list only fill what the base lacks: the Debian/Ubuntu codename (os-release
 * `VERSION_CODENAME`, else `UBUNTU_CODENAME`, else lsb-release `DISTRIB_CODENAME`, else the word in
 * parentheses of `VERSION` — "8 (jessie)" —, else `debian_version`'s `trixie/sid`), a missing
 * `VERSION_ID` (Debian's from `debian_version`'s major, Alpine's from `alpine-release`) and a
 * missing CPE (`etc/system-release-cpe`).
 */
export function scanDistribution(layer: LayerFiles): ScanResult {
  const notes: string[] = [];
  const read = (path: string): string | undefined => {
    const file = layer.files.get(path);
    if (!file) return undefined;
    const { text, lossy } = decodeText(file.data);
    if (lossy) notes.push(`${path} is not valid UTF-8; invalid bytes were replaced`);
    return text;
  };

  const base = fromOsRelease(layer, read, notes)
    ?? fromRedhatFamily(read, notes)
    ?? fromSuse(read)
    ?? fromPhoton(read)
    ?? fromLsbRelease(read)
    ?? fromDebianVersion(read)
    ?? fromAlpineRelease(read);
  if (!base) return { distributions: [], notes };

  fillGaps(base, read);
  return { distributions: [base], notes };
}

/** The distribution scanner: one release per layer, from os-release and the legacy release files. */
export const distributionScanner: Scanner = {
  name: 'os-release',
  version: '1',
  kind: 'distribution',
  files: { paths: DISTRIBUTION_PATHS, maxBytes: MAX_RELEASE_FILE_BYTES },
  scan: scanDistribution,
};

type Read = (path: string) => string | undefined;

function fromOsRelease(layer: LayerFiles, read: Read, notes: string[]): FoundDistribution | null {
  const candidates: string[] = [];
  if (layer.files.has('etc/os-release')) {
    candidates.push('etc/os-release');
  } else {
    const target = layer.symlinks.get('etc/os-release');
    if (target !== undefined) {
      const resolved = resolveLinkTarget('etc/os-release', target);
      notes.push(osReleaseLinkNote(target, resolved));
      if (resolved !== null && layer.files.has(resolved)) candidates.push(resolved);
    }
  }
  if (!candidates.includes('usr/lib/os-release')) candidates.push('usr/lib/os-release');

  for (const path of candidates) {
    const text = read(path);
    if (text === undefined) continue;
    const { fields, problems } = parseOsRelease(text);
    for (const problem of problems) notes.push(`${path}: ${problem}`);
    if (Object.keys(fields).length === 0) {
      notes.push(`${path} has no assignments`);
      continue;
    }
    const id = fields.ID?.trim().toLowerCase();
    if (!id) notes.push(`${path} has no ID; the specification's default "linux" is used`);
    const dist: FoundDistribution = { did: id || 'linux', path };
    set(dist, 'name', fields.NAME);
    set(dist, 'version', fields.VERSION);
    set(dist, 'versionId', fields.VERSION_ID);
    set(dist, 'versionCodename', fields.VERSION_CODENAME?.toLowerCase() || fields.UBUNTU_CODENAME?.toLowerCase());
    set(dist, 'prettyName', fields.PRETTY_NAME);
    set(dist, 'cpe', fields.CPE_NAME);
    return dist;
  }
  return null;
}

function fromRedhatFamily(read: Read, notes: string[]): FoundDistribution | null {
  for (const path of REDHAT_RELEASE_PATHS) {
    const text = read(path);
    if (text === undefined) continue;
    const release = parseRedhatRelease(text);
    if (!release) {
      notes.push(`${path} does not read "<name> release <version>"`);
      continue;
    }
    if (release.did === null) {
      notes.push(`${path} names an unknown distribution: ${release.name}`);
      continue;
    }
    return redhatDistribution(release, path);
  }
  return null;
}

function redhatDistribution(release: RedhatRelease, path: string): FoundDistribution {
  const dist: FoundDistribution = { did: release.did as string, name: release.name, versionId: release.versionId, prettyName: release.prettyName, path };
  dist.version = release.codename ? `${release.versionId} (${release.codename})` : release.versionId;
  return dist;
}

function fromSuse(read: Read): FoundDistribution | null {
  const text = read('etc/SuSE-release');
  const release = text === undefined ? null : parseSuseRelease(text);
  if (!release) return null;
  const dist: FoundDistribution = { did: release.did, name: release.name, versionId: release.versionId, prettyName: release.prettyName, path: 'etc/SuSE-release' };
  if (release.codename) dist.versionCodename = release.codename.toLowerCase();
  return dist;
}

function fromPhoton(read: Read): FoundDistribution | null {
  const text = read('etc/photon-release');
  const release = text === undefined ? null : parsePhotonRelease(text);
  if (!release) return null;
  return { did: 'photon', name: 'VMware Photon OS', versionId: release.versionId, version: release.versionId, prettyName: release.prettyName, path: 'etc/photon-release' };
}

function fromLsbRelease(read: Read): FoundDistribution | null {
  const text = read('etc/lsb-release');
  if (text === undefined) return null;
  const { fields } = parseOsRelease(text);
  const id = fields.DISTRIB_ID?.trim();
  if (!id) return null;
  const dist: FoundDistribution = { did: id.toLowerCase(), name: id, path: 'etc/lsb-release' };
  set(dist, 'versionId', fields.DISTRIB_RELEASE);
  set(dist, 'versionCodename', fields.DISTRIB_CODENAME?.toLowerCase());
  set(dist, 'prettyName', fields.DISTRIB_DESCRIPTION);
  return dist;
}

function fromDebianVersion(read: Read): FoundDistribution | null {
  const text = read('etc/debian_version')?.trim();
  if (!text) return null;
  const dist: FoundDistribution = { did: 'debian', name: 'Debian GNU/Linux', version: text, path: 'etc/debian_version' };
  const { versionId, codename } = debianVersionFacts(text);
  set(dist, 'versionId', versionId);
  set(dist, 'versionCodename', codename);
  return dist;
}

function fromAlpineRelease(read: Read): FoundDistribution | null {
  const text = read('etc/alpine-release')?.trim();
  if (!text || !/^\d/.test(text)) return null;
  return { did: 'alpine', name: 'Alpine Linux', versionId: text, path: 'etc/alpine-release' };
}

/** `12.5` → major `12`; `trixie/sid` → codename `trixie` (testing and unstable both say this). */
function debianVersionFacts(text: string): { versionId?: string; codename?: string } {
  const numeric = /^(\d+)(?:\.\d+)*$/.exec(text);
  if (numeric) return { versionId: numeric[1] as string };
  const named = /^([a-z]+)\/sid$/.exec(text);
  if (named) return { codename: named[1] as string };
  return {};
}

function fillGaps(dist: FoundDistribution, read: Read): void {
  if (dist.did === 'debian' || dist.did === 'ubuntu') {
    if (!dist.versionCodename) {
      const lsb = read('etc/lsb-release');
      const fields = lsb === undefined ? {} : parseOsRelease(lsb).fields;
      if (fields.DISTRIB_ID?.toLowerCase() === dist.did && fields.DISTRIB_CODENAME) {
        dist.versionCodename = fields.DISTRIB_CODENAME.toLowerCase();
      }
    }
    if (!dist.versionCodename && dist.version) {
      // Debian "8 (jessie)", "Debian GNU/Linux 12 (bookworm)"; Ubuntu "14.04.6 LTS, Trusty Tahr", "18.04.3 LTS (Bionic Beaver)".
      const m = dist.did === 'debian'
        ? /\(([a-z]+)\)\s*$/.exec(dist.version)
        : /(?:\(|,\s*)([A-Z][a-z]+) [A-Z][a-z]+\)?\s*$/.exec(dist.version);
      if (m) dist.versionCodename = (m[1] as string).toLowerCase();
    }
    if (dist.did === 'debian' && (!dist.versionCodename || !dist.versionId)) {
      const text = read('etc/debian_version')?.trim();
      const facts = text ? debianVersionFacts(text) : {};
      if (!dist.versionId && facts.versionId) dist.versionId = facts.versionId;
      if (!dist.versionCodename && facts.codename) dist.versionCodename = facts.codename;
    }
  }
  if (dist.did === 'alpine' && !dist.versionId) {
    const text = read('etc/alpine-release')?.trim();
    if (text && /^\d/.test(text)) dist.versionId = text;
  }
  if (!dist.cpe) {
    const cpe = read('etc/system-release-cpe')?.trim();
    if (cpe && cpe.startsWith('cpe:')) dist.cpe = cpe;
  }
}

function set<K extends 'name' | 'version' | 'versionId' | 'versionCodename' | 'prettyName' | 'cpe'>(dist: FoundDistribution, key: K, value: string | undefined): void {
  const v = value?.trim();
  if (v) dist[key] = v;
}
