import { isRegularFile, type FoundPackage, type ScanResult, type Scanner } from '../scanner.ts';
import { gemPurl } from './gem-purl.ts';
import { parseGemspec } from './parse-gemspec.ts';

/** Bounds on what the gemspec scanner reads. */
export interface GemspecScannerOptions {
  /** The largest specification file read. */
  maxBytes: number;
  /** At most this many notes per layer; the rest are counted in a last note. */
  maxNotes: number;
}

/** Defaults: specifications up to 1 MiB, 100 notes. */
export const DEFAULT_GEMSPEC_SCANNER_OPTIONS: Readonly<GemspecScannerOptions> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxNotes: 100,
});

const SPEC_PATH = /(?:^|\/)specifications\/(?:default\/)?[^/]+\.gemspec$/;
const GEM_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** `Gem::Version::VERSION_PATTERN`, anchored. */
const GEM_VERSION = /^[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Whether `path` is an installed gem's specification (`…/specifications/x.gemspec`, default gems included). */
export function isInstalledGemspec(path: string): boolean {
  return SPEC_PATH.test(path);
}

/** Builds a gemspec scanner with the given bounds. */
export function createGemspecScanner(options: Partial<GemspecScannerOptions> = {}): Scanner {
  const settings: GemspecScannerOptions = { ...DEFAULT_GEMSPEC_SCANNER_OPTIONS, ...options };
  return {
    name: 'gem',
    version: '1',
    kind: 'package',
    files: {
      match: (path, _size, mode) => {
        return isRegularFile(mode) && isInstalledGemspec(path);
      },
      maxBytes: settings.maxBytes,
    },
    scan(layer) {
      const packages: FoundPackage[] = [];
      const notes: string[] = [];
      for (const path of [...layer.files.keys()].sort()) {
        const file = layer.files.get(path);
        if (file === undefined) continue;
        if (file.size > settings.maxBytes || file.data.length > settings.maxBytes) {
          notes.push(`${path}: ${file.size} bytes, more than the ${settings.maxBytes}-byte limit; skipped`);
          continue;
        }
        const { name, version, platform, source } = parseGemspec(file.data.toString('utf8'));
        if (name === null) notes.push(`${path}: no gem name could be read; skipped`);
        else if (name === '') notes.push(`${path}: the gem name is empty; skipped`);
        else if (!GEM_NAME.test(name)) notes.push(`${path}: "${name.slice(0, 100)}" is not a valid gem name; skipped`);
        else if (version === null || version === '') notes.push(`${path}: no version could be read for ${name}; skipped`);
        else if (!GEM_VERSION.test(version)) notes.push(`${path}: "${version.slice(0, 100)}" is not a valid version for ${name}; skipped`);
        else {
          const extra: Record<string, unknown> = { source };
          if (platform !== null) extra.platform = platform;
          if (path.includes('/specifications/default/') || path.startsWith('specifications/default/')) extra.defaultGem = true;
          packages.push({ ecosystem: 'gem', name, version, purl: gemPurl(name, version, platform), path, extra });
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

/** The RubyGems scanner: installed gems from their `specifications/*.gemspec`, read without running Ruby. */
export const gemspecScanner: Scanner = createGemspecScanner();
