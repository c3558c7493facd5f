import { parseOsRelease } from './parse-os-release.ts';

/** What the legacy `etc/SuSE-release` file says (SLES ≤ 12, openSUSE ≤ 42). */
export interface SuseRelease {
  /** `sles`, `sled`, `opensuse-leap`, `opensuse-tumbleweed` or `opensuse`. */
  did: string;
  name: string;
  /** `VERSION` or `VERSION.PATCHLEVEL` for a non-zero patch level (`11.4`), as SLES os-release writes VERSION_ID. */
  versionId: string;
  codename?: string;
  prettyName: string;
}

/**
 * Parses `etc/SuSE-release`: a title line (`SUSE Linux Enterprise Server 11 (x86_64)`) followed by
 * `VERSION = 11`, `PATCHLEVEL = 4` and, for openSUSE, `CODENAME = …`. Null when there is no version.
 */
export function parseSuseRelease(text: string): SuseRelease | null {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const title = lines[0];
  if (title === undefined) return null;
  const { fields } = parseOsRelease(lines.slice(1).map((l) => l.replace(/\s*=\s*/, '=')).join('\n'));
  const titleVersion = /\b(\d+(?:\.\d+)?)\b/.exec(title)?.[1];
  const version = fields.VERSION ?? titleVersion;
  if (version === undefined || !/^\d+(?:\.\d+)?$/.test(version)) return null;
  const patch = fields.PATCHLEVEL;
  const versionId = patch && patch !== '0' && !version.includes('.') ? `${version}.${patch}` : version;
  const prettyName = title.replace(/\s*\([^)]*\)\s*$/, '');
  let did: string;
  if (/enterprise server/i.test(title)) did = 'sles';
  else if (/enterprise desktop/i.test(title)) did = 'sled';
  else if (/tumbleweed/i.test(title)) did = 'opensuse-tumbleweed';
  else if (/leap/i.test(title) || Number.parseFloat(version) >= 42) did = 'opensuse-leap';
  else did = 'opensuse';
  const out: SuseRelease = { did, name: prettyName.replace(/\s+\d.*$/, ''), versionId, prettyName };
  if (fields.CODENAME) out.codename = fields.CODENAME;
  return out;
}
