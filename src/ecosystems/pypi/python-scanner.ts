import { isRegularFile, type FoundPackage, type ScanResult, type Scanner } from '../scanner.ts';
import { isPep440, parseCoreMetadata } from './parse-core-metadata.ts';
import { isPypiName, normalizePypiName } from './pep503-name.ts';
import { pypiPurl } from './pypi-purl.ts';
import { readZippedEggMetadata } from './read-zipped-egg.ts';

/** Bounds on what the Python scanner keeps. */
export interface PythonScannerOptions {
  /** Bytes kept from the start of a METADATA / PKG-INFO file (the headers come first; descriptions can be huge). */
  headBytes: number;
  /** The largest zipped `.egg` buffered to read its `EGG-INFO/PKG-INFO`. */
  eggBytes: number;
  /** Zip entries looked through in one egg. */
  eggEntries: number;
  /** At most this many notes per layer; the rest are counted in a last note. */
  maxNotes: number;
}

/** Defaults: 256 KiB of each metadata file, eggs up to 32 MiB, 100 notes. */
export const DEFAULT_PYTHON_SCANNER_OPTIONS: Readonly<PythonScannerOptions> = Object.freeze({
  headBytes: 256 * 1024,
  eggBytes: 32 * 1024 * 1024,
  eggEntries: 100_000,
  maxNotes: 100,
});


/**
 * What kind of Python package metadata `path` is: `metadata` for `*.dist-info/METADATA`,
 * `*.egg-info/PKG-INFO`, `EGG-INFO/PKG-INFO`, any other `PKG-INFO` and an `*.egg-info` file;
 * `egg` for a zipped `*.egg`; null otherwise.
 */
export function pythonMetadataKind(path: string): 'metadata' | 'egg' | null {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (base === 'METADATA') return slash > 0 && path.slice(0, slash).endsWith('.dist-info') ? 'metadata' : null;
  if (base === 'PKG-INFO') return 'metadata';
  if (base.length > '.egg-info'.length && base.endsWith('.egg-info')) return 'metadata';
  if (base.length > '.egg'.length && base.endsWith('.egg')) return 'egg';
  return null;
}

async function keep(chunks: AsyncIterable<Buffer>, cap: number): Promise<{ data: Buffer; total: number }> {
  const parts: Buffer[] = [];
  let kept = 0;
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (kept < cap) {
      const part = chunk.subarray(0, cap - kept);
      parts.push(Buffer.from(part));
      kept += part.length;
    }
  }
  return { data: Buffer.concat(parts), total };
}

/** Builds a Python scanner with the given bounds. */
export function createPythonScanner(options: Partial<PythonScannerOptions> = {}): Scanner {
  const settings: PythonScannerOptions = { ...DEFAULT_PYTHON_SCANNER_OPTIONS, ...options };
  return {
    name: 'python',
    version: '1',
    kind: 'package',
    files: {
      match: (path, _size, mode) => {
        return isRegularFile(mode) && pythonMetadataKind(path) !== null;
      },
      extract: async (path, chunks) => {
        if (pythonMetadataKind(path) === 'egg') {
          const { data, total } = await keep(chunks, settings.eggBytes + 1);
          return total > settings.eggBytes ? Buffer.alloc(0) : data;
        }
        return (await keep(chunks, settings.headBytes)).data;
      },
    },
    async scan(layer) {
      const packages: FoundPackage[] = [];
      const notes: string[] = [];
      const paths = [...layer.files.keys()].sort();
      for (const path of paths) {
        const file = layer.files.get(path);
        if (file === undefined) continue;
        let text: string;
        if (pythonMetadataKind(path) === 'egg') {
          if (file.size > settings.eggBytes) {
            notes.push(`${path}: zipped egg of ${file.size} bytes is larger than the ${settings.eggBytes}-byte limit; skipped`);
            continue;
          }
          const read = await readZippedEggMetadata(file.data, { entries: settings.eggEntries, metadataBytes: settings.headBytes });
          if ('error' in read) {
            notes.push(`${path}: ${read.error}; skipped`);
            continue;
          }
          text = read.text;
        } else {
          text = file.data.subarray(0, settings.headBytes).toString('utf8');
        }
        const found = packageFrom(path, text, file.size > settings.headBytes ? settings.headBytes : null);
        if (typeof found === 'string') {
          notes.push(found);
          continue;
        }
        packages.push(found.pkg);
        if (found.note !== undefined) notes.push(found.note);
      }
      return capNotes({ packages, notes }, settings.maxNotes);
    },
  };
}

function packageFrom(path: string, text: string, truncatedAt: number | null): { pkg: FoundPackage; note?: string } | string {
  const { name, version } = parseCoreMetadata(text);
  const partly = truncatedAt === null ? '' : ` in its first ${truncatedAt} bytes`;
  if (name === null || name === '') return `${path}: no Name field${partly}; skipped`;
  if (!isPypiName(name)) return `${path}: "${name.slice(0, 100)}" is not a valid distribution name; skipped`;
  if (version === null || version === '') return `${path}: ${name} has no Version field${partly}; skipped`;
  const pkg: FoundPackage = {
    ecosystem: 'pypi',
    name: normalizePypiName(name),
    version,
    purl: pypiPurl(name, version),
    path,
    extra: { declaredName: name },
  };
  return isPep440(version) ? { pkg } : { pkg, note: `${path}: ${name} ${version.slice(0, 100)} is not a PEP 440 version` };
}

function capNotes(result: { packages: FoundPackage[]; notes: string[] }, max: number): ScanResult {
  if (result.notes.length <= max) return result;
  const rest = result.notes.length - max;
  return { packages: result.packages, notes: [...result.notes.slice(0, max), `${rest} more note(s) left out`] };
}

/** The Python scanner: installed distributions from their core metadata (dist-info, egg-info, eggs). */
export const pythonScanner: Scanner = createPythonScanner();
