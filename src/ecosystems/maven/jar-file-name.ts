const ARCHIVE = /\.(?:jar|war|ear|jpi|hpi)$/i;

/** Whether a file name ends like a Java archive this scanner reads (`.jar .war .ear .jpi .hpi`). */
export function isJavaArchiveName(name: string): boolean {
  return ARCHIVE.test(name);
}

/**
 * A Maven-style archive file name split into artifact and version at the first `-` followed by
 * a digit (`jackson-databind-2.9.10.6.jar` → `jackson-databind`, `2.9.10.6`;
 * `java-cup-runtime-11b-20160615.jar` → `java-cup-runtime`, `11b-20160615`). The version is null
 * when the name has none (`app.jar` → `app`).
 */
export function splitJarFileName(path: string): { artifactId: string; version: string | null } {
  const base = path.slice(path.lastIndexOf('/') + 1).replace(ARCHIVE, '');
  const match = /^(.+?)-(\d[A-Za-z0-9._+-]*)$/.exec(base);
  return match === null ? { artifactId: base, version: null } : { artifactId: match[1] as string, version: match[2] as string };
}
