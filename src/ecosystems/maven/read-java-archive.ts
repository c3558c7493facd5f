import yauzl from 'yauzl';
import { isJavaArchiveName } from './jar-file-name.ts';
import { coordinatesFromManifest, type MavenCoordinates } from './manifest-coordinates.ts';
import { parseJarManifest } from './parse-jar-manifest.ts';
import { parseJavaProperties } from './parse-java-properties.ts';

/** Bounds on reading one archive and everything nested in it. Every one is chosen by whoever built the image. */
export interface JavaArchiveLimits {
  /** How deep archives inside archives are opened (1: a war's `WEB-INF/lib/*.jar`, 2: jars inside those). */
  maxDepth: number;
  /** Zip entries in any one archive. */
  maxEntries: number;
  /** Bytes inflated in total for one top-level archive (metadata and nested archives together). */
  maxInflatedBytes: number;
  /** The largest nested archive inflated. */
  maxNestedBytes: number;
  /** The largest `pom.properties` or `MANIFEST.MF` inflated. */
  maxMetadataBytes: number;
  /** Nested archives opened in total for one top-level archive. */
  maxArchives: number;
}

/** Defaults sized for real fat jars and wars: 3 levels, 200k entries, 512 MiB inflated, 128 MiB per nested archive. */
export const DEFAULT_JAVA_ARCHIVE_LIMITS: Readonly<JavaArchiveLimits> = Object.freeze({
  maxDepth: 3,
  maxEntries: 200_000,
  maxInflatedBytes: 512 * 1024 * 1024,
  maxNestedBytes: 128 * 1024 * 1024,
  maxMetadataBytes: 1024 * 1024,
  maxArchives: 10_000,
});

/** An artifact found in an archive. */
export interface JavaArtifact extends MavenCoordinates {
  /** `pom.properties` (what Maven wrote) or `manifest` (guessed from the manifest and file name). */
  source: 'pom.properties' | 'manifest';
  /** Where inside the top-level archive: nested archives joined by `!/`, then the file read. */
  location: string;
}

interface Walk {
  readonly limits: Readonly<JavaArchiveLimits>;
  readonly artifacts: JavaArtifact[];
  readonly notes: string[];
  inflated: number;
  archives: number;
  depthNoted: boolean;
}

const POM_PROPERTIES = /^META-INF\/(?:.+\/)?pom\.properties$/;

/**
 * The Maven artifacts in a Java archive (jar, war, ear, Jenkins plugin) held in `data`:
 * every `META-INF/**\/pom.properties` (groupId, artifactId, version), or, when there is none,
 * coordinates guessed from `META-INF/MANIFEST.MF` and the file name; then the same for archives
 * nested in it (`WEB-INF/lib`, `BOOT-INF/lib`, …) within `limits`. Anything unreadable, over a
 * limit or unidentifiable is a note (prefixed with `displayPath`), never an exception.
 */
export async function readJavaArchive(
  data: Buffer,
  displayPath: string,
  limits: Readonly<JavaArchiveLimits> = DEFAULT_JAVA_ARCHIVE_LIMITS,
): Promise<{ artifacts: JavaArtifact[]; notes: string[] }> {
  const walk: Walk = { limits, artifacts: [], notes: [], inflated: 0, archives: 0, depthNoted: false };
  await readArchive(walk, data, displayPath, '', 0);
  return { artifacts: walk.artifacts, notes: walk.notes };
}

async function readArchive(walk: Walk, data: Buffer, displayPath: string, chain: string, depth: number): Promise<void> {
  const where = chain === '' ? displayPath : `${displayPath}!/${chain.slice(0, -2)}`;
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(data, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false, decodeStrings: true });
  } catch (error) {
    walk.notes.push(`${where}: not a readable zip archive (${message(error)})`);
    return;
  }
  try {
    if (zip.entryCount > walk.limits.maxEntries) {
      walk.notes.push(`${where}: ${zip.entryCount} zip entries, more than the ${walk.limits.maxEntries} allowed; not read`);
      return;
    }
    const poms: yauzl.Entry[] = [];
    const nested: yauzl.Entry[] = [];
    let manifest: yauzl.Entry | null = null;
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      if (name.endsWith('/')) continue;
      if (POM_PROPERTIES.test(name)) poms.push(entry);
      else if (name.toUpperCase() === 'META-INF/MANIFEST.MF') manifest ??= entry;
      else if (isJavaArchiveName(name)) nested.push(entry);
    }
    let found = 0;
    for (const entry of poms) {
      const bytes = await readEntry(walk, zip, entry, walk.limits.maxMetadataBytes, where);
      if (bytes === null) continue;
      const properties = parseJavaProperties(bytes.toString('utf8'));
      const groupId = properties.get('groupId')?.trim() ?? '';
      const artifactId = properties.get('artifactId')?.trim() ?? '';
      const version = properties.get('version')?.trim() ?? '';
      if (groupId === '' || artifactId === '' || version === '' || /[\s${}]/.test(groupId + artifactId + version)) {
        walk.notes.push(`${where}: ${entry.fileName} lacks a usable groupId, artifactId or version; skipped`);
        continue;
      }
      walk.artifacts.push({ groupId, artifactId, version, source: 'pom.properties', location: chain + entry.fileName });
      found++;
    }
    if (found === 0) {
      const bytes = manifest === null ? null : await readEntry(walk, zip, manifest, walk.limits.maxMetadataBytes, where);
      const fileName = chain === '' ? displayPath : chain.slice(0, -2);
      const coordinates = coordinatesFromManifest(bytes === null ? null : parseJarManifest(bytes.toString('utf8')), fileName);
      if ('missing' in coordinates) {
        const what = `${coordinates.artifactId}${coordinates.version === null ? '' : ` ${coordinates.version}`}`;
        walk.notes.push(`${where}: no pom.properties and the ${coordinates.missing} of "${what.slice(0, 200)}" could not be told from the manifest or file name; not reported`);
      } else {
        walk.artifacts.push({ ...coordinates, source: 'manifest', location: chain + (manifest?.fileName ?? 'META-INF/MANIFEST.MF') });
      }
    }
    for (const entry of nested) {
      if (depth >= walk.limits.maxDepth) {
        if (!walk.depthNoted) walk.notes.push(`${where}: archives nested deeper than ${walk.limits.maxDepth} levels are not read`);
        walk.depthNoted = true;
        break;
      }
      if (walk.archives >= walk.limits.maxArchives) {
        walk.notes.push(`${displayPath}: more than ${walk.limits.maxArchives} nested archives; the rest are not read`);
        walk.archives = Infinity;
        break;
      }
      const bytes = await readEntry(walk, zip, entry, walk.limits.maxNestedBytes, where);
      if (bytes === null) continue;
      walk.archives++;
      await readArchive(walk, bytes, displayPath, `${chain}${entry.fileName}!/`, depth + 1);
    }
  } catch (error) {
    walk.notes.push(`${where}: unreadable zip archive (${message(error)})`);
  } finally {
    zip.close();
  }
}

/** An entry's inflated bytes within `cap` and the walk's total budget; null (with a note) otherwise. */
async function readEntry(walk: Walk, zip: yauzl.ZipFile, entry: yauzl.Entry, cap: number, where: string): Promise<Buffer | null> {
  const name = entry.fileName;
  if (entry.isEncrypted()) {
    walk.notes.push(`${where}: ${name} is encrypted; skipped`);
    return null;
  }
  if (entry.uncompressedSize > cap) {
    walk.notes.push(`${where}: ${name} inflates to ${entry.uncompressedSize} bytes, more than the ${cap}-byte limit; skipped`);
    return null;
  }
  if (walk.inflated + entry.uncompressedSize > walk.limits.maxInflatedBytes) {
    walk.notes.push(`${where}: ${name} would take the inflated total past ${walk.limits.maxInflatedBytes} bytes; skipped`);
    return null;
  }
  const parts: Buffer[] = [];
  let total = 0;
  try {
    const stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > cap || walk.inflated + total > walk.limits.maxInflatedBytes) {
        stream.destroy();
        walk.notes.push(`${where}: ${name} inflates past its declared size and the limits; skipped`);
        walk.inflated += total;
        return null;
      }
      parts.push(chunk);
    }
  } catch (error) {
    walk.notes.push(`${where}: ${name} could not be inflated (${message(error)}); skipped`);
    walk.inflated += total;
    return null;
  }
  walk.inflated += total;
  return Buffer.concat(parts);
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}
