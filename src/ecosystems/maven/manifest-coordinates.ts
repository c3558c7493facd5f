import { splitJarFileName } from './jar-file-name.ts';

/** Maven coordinates. */
export interface MavenCoordinates {
  groupId: string;
  artifactId: string;
  version: string;
}

const TOKEN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const GROUP = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

function pick(value: string | undefined, pattern: RegExp): string | null {
  const trimmed = value?.trim();
  return trimmed !== undefined && pattern.test(trimmed) ? trimmed : null;
}

/**
 * Best-effort Maven coordinates for an archive without `pom.properties`, from its manifest and
 * file name. The heuristics, in order:
 * - artifactId: the file name's artifact when the name carries a version (`x-1.2.jar`), else a
 *   space-free `Implementation-Title` or `Bundle-Name`, else the file name;
 * - version: `Implementation-Version`, the file name's version, `Bundle-Version`,
 *   `Specification-Version` (first that looks like a version);
 * - groupId: `Implementation-Vendor-Id` when `Bundle-SymbolicName` is absent or under it; else
 *   `Bundle-SymbolicName` without a trailing `.<artifactId>`; else `Bundle-SymbolicName` without
 *   its last segment when that segment is the artifact's last word (`org.springframework.core` for
 *   `spring-core`); else `Implementation-Vendor-Id`.
 * Returns what is missing in plain words when no groupId or version can be told.
 */
export function coordinatesFromManifest(manifest: ReadonlyMap<string, string> | null, fileName: string): MavenCoordinates | { missing: string; artifactId: string; version: string | null } {
  const m = manifest ?? new Map<string, string>();
  const fromName = splitJarFileName(fileName);
  const artifactId = fromName.version !== null
    ? fromName.artifactId
    : pick(m.get('implementation-title'), TOKEN) ?? pick(m.get('bundle-name'), TOKEN) ?? fromName.artifactId;
  const version = pick(m.get('implementation-version'), VERSION)
    ?? (fromName.version !== null && VERSION.test(fromName.version) ? fromName.version : null)
    ?? pick(m.get('bundle-version'), VERSION)
    ?? pick(m.get('specification-version'), VERSION);
  const vendorId = pick(m.get('implementation-vendor-id'), GROUP);
  const symbolic = pick(m.get('bundle-symbolicname')?.split(';')[0], GROUP);
  let groupId: string | null = null;
  if (vendorId !== null && (symbolic === null || symbolic === vendorId || symbolic.startsWith(`${vendorId}.`))) {
    groupId = vendorId;
  } else if (symbolic !== null && symbolic.endsWith(`.${artifactId}`)) {
    groupId = symbolic.slice(0, -artifactId.length - 1);
  } else if (symbolic !== null && symbolic !== artifactId.replace(/-/g, '.')) {
    const segments = symbolic.split('.');
    const lastWord = artifactId.split('-').at(-1);
    if (segments.length >= 3 && segments.at(-1) === lastWord) groupId = segments.slice(0, -1).join('.');
  }
  groupId ??= vendorId;
  if (groupId === null) return { missing: 'groupId', artifactId, version };
  if (version === null) return { missing: 'version', artifactId, version };
  return { groupId, artifactId, version };
}
