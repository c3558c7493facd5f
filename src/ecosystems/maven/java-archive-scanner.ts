import { isRegularFile, type FoundPackage, type ScanResult, type Scanner } from '../scanner.ts';
import { isJavaArchiveName } from './jar-file-name.ts';
import { mavenPurl } from './maven-purl.ts';
import { DEFAULT_JAVA_ARCHIVE_LIMITS, readJavaArchive, type JavaArchiveLimits, type JavaArtifact } from './read-java-archive.ts';

/** Bounds on what the Java archive scanner reads. */
export interface JavaArchiveScannerOptions {
  /** The largest archive file read (it is held in memory while read, one at a time). */
  maxArchiveBytes: number;
  limits: Readonly<JavaArchiveLimits>;
  /** At most this many notes per layer; the rest are counted in a last note. */
  maxNotes: number;
}

/** Defaults: archives up to 256 MiB, the default nesting limits, 100 notes. */
export const DEFAULT_JAVA_ARCHIVE_SCANNER_OPTIONS: Readonly<JavaArchiveScannerOptions> = Object.freeze({
  maxArchiveBytes: 256 * 1024 * 1024,
  limits: DEFAULT_JAVA_ARCHIVE_LIMITS,
  maxNotes: 100,
});


interface Envelope {
  javaArchive: 1;
  artifacts: JavaArtifact[];
  notes: string[];
}

/** What `extract` keeps of one archive: its artifacts and notes, not its bytes. */
function encode(envelope: Omit<Envelope, 'javaArchive'>): Buffer {
  return Buffer.from(JSON.stringify({ javaArchive: 1, ...envelope }), 'utf8');
}

function decode(data: Buffer): Envelope | null {
  if (data[0] !== 0x7b) return null;
  try {
    const value = JSON.parse(data.toString('utf8')) as Partial<Envelope>;
    if (value.javaArchive !== 1 || !Array.isArray(value.artifacts) || !Array.isArray(value.notes)) return null;
    return value as Envelope;
  } catch {
    return null;
  }
}

async function readChunks(chunks: AsyncIterable<Buffer>, cap: number): Promise<{ data: Buffer | null; total: number }> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total <= cap) parts.push(Buffer.from(chunk));
    else if (parts.length > 0) parts.length = 0;
  }
  return { data: total <= cap ? Buffer.concat(parts) : null, total };
}

/** Builds a Java archive scanner with the given bounds. */
export function createJavaArchiveScanner(options: Partial<JavaArchiveScannerOptions> = {}): Scanner {
  const settings: JavaArchiveScannerOptions = { ...DEFAULT_JAVA_ARCHIVE_SCANNER_OPTIONS, ...options };
  const read = async (path: string, data: Buffer | null, total: number): Promise<Omit<Envelope, 'javaArchive'>> => {
    if (data === null) {
      return { artifacts: [], notes: [`${path}: archive of ${total} bytes is larger than the ${settings.maxArchiveBytes}-byte limit; not read`] };
    }
    return readJavaArchive(data, path, settings.limits);
  };
  return {
    name: 'java',
    version: '1',
    kind: 'package',
    files: {
      match: (path, _size, mode) => {
        return isRegularFile(mode) && isJavaArchiveName(path);
      },
      extract: async (path, chunks) => {
        const { data, total } = await readChunks(chunks, settings.maxArchiveBytes);
        return encode(await read(path, data, total));
      },
    },
    async scan(layer) {
      const packages: FoundPackage[] = [];
      const notes: string[] = [];
      for (const path of [...layer.files.keys()].sort()) {
        const file = layer.files.get(path);
        if (file === undefined) continue;
        const result = decode(file.data) ?? (await read(path, file.data.length <= settings.maxArchiveBytes ? file.data : null, file.size));
        notes.push(...result.notes);
        const seen = new Set<string>();
        for (const artifact of result.artifacts) {
          const name = `${artifact.groupId}:${artifact.artifactId}`;
          const key = `${name}@${artifact.version}`;
          if (seen.has(key)) continue;
          seen.add(key);
          packages.push({
            ecosystem: 'maven',
            name,
            version: artifact.version,
            purl: mavenPurl(artifact.groupId, artifact.artifactId, artifact.version),
            path,
            extra: { source: artifact.source, location: artifact.location },
          });
        }
      }
      return capNotes({ packages, notes }, settings.maxNotes);
    },
  };
}

function capNotes(result: { packages: FoundPackage[]; notes: string[] }, max: number): ScanResult {
  if (result.notes.length <= max) return result;
  const rest = result.notes.length - max;
  return { packages: result.packages, notes: [...result.notes.slice(0, max), `${rest} more note(s) left out`] };
}

/** The Java archive scanner: Maven artifacts in jars, wars, ears and Jenkins plugins, nested ones included. */
export const javaArchiveScanner: Scanner = createJavaArchiveScanner();
