/** What a `<Name> release <version> (<codename>)` file says. */
export interface RedhatRelease {
  /** os-release style ID (`rhel`, `centos`, `rocky`, `almalinux`, `ol`, `fedora`, `amzn`, …), null when the name is not known. */
  did: string | null;
  name: string;
  versionId: string;
  codename?: string;
  prettyName: string;
}

const NAMES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^red hat enterprise linux/i, 'rhel'],
  [/^centos/i, 'centos'],
  [/^rocky linux/i, 'rocky'],
  [/^almalinux/i, 'almalinux'],
  [/^(?:oracle linux|enterprise linux enterprise linux)/i, 'ol'],
  [/^fedora/i, 'fedora'],
  [/^amazon linux/i, 'amzn'],
  [/^scientific linux/i, 'scientific'],
  [/^cloudlinux/i, 'cloudlinux'],
  [/^(?:cbl-mariner|common base linux mariner)/i, 'mariner'],
  [/^(?:eurolinux)/i, 'eurolinux'],
];

const LINE = /^(.+?)\s+release\s+([0-9][0-9A-Za-z._-]*)(?:\s*\(([^)]*)\))?/i;

/**
 * Parses the first line of `etc/redhat-release` and its siblings (`centos-release`,
 * `rocky-release`, `almalinux-release`, `oracle-release`, `fedora-release`, `system-release`):
 * `Red Hat Enterprise Linux Server release 7.4 (Maipo)` → rhel 7.4 Maipo. The version is kept as
 * written (`7.6.1810` for CentOS). Returns null when the text has no such line; `did` is null for
 * a product this table does not know (`Red Hat Linux release 6.2`, the pre-RHEL product).
 */
export function parseRedhatRelease(text: string): RedhatRelease | null {
  const first = text.split('\n').map((l) => l.trim()).find((l) => l !== '');
  if (first === undefined) return null;
  const m = LINE.exec(first);
  if (!m) return null;
  const name = (m[1] as string).trim();
  const versionId = m[2] as string;
  const codename = m[3]?.trim();
  const did = NAMES.find(([re]) => re.test(name))?.[1] ?? null;
  const out: RedhatRelease = { did, name, versionId, prettyName: first };
  if (codename) out.codename = codename;
  return out;
}
