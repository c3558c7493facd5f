import semver from 'semver';
import { isRegularFile, type FoundPackage, type ScanResult, type Scanner } from '../scanner.ts';
import { npmPurl } from './npm-purl.ts';

/** Bounds on what the npm scanner reads. */
export interface NpmScannerOptions {
  /** The largest `package.json` read (old npm versions stored whole READMEs in them). */
  maxBytes: number;
  /** At most this many notes per layer; the rest are counted in a last note. */
  maxNotes: number;
}

/** Defaults: manifests up to 4 MiB, 100 notes. */
export const DEFAULT_NPM_SCANNER_OPTIONS: Readonly<NpmScannerOptions> = Object.freeze({
  maxBytes: 4 * 1024 * 1024,
  maxNotes: 100,
});


/**
 * The directory name a package is installed under when `path` is an installed package's
 * manifest: `…/node_modules/<name>/package.json` or `…/node_modules/@scope/<name>/package.json`
 * (nested `node_modules` and pnpm's `.pnpm/…/node_modules/…` included). Null for anything else,
 * such as a project's own `package.json` or files deeper inside a package.
 */
export function installedPackageDir(path: string): string | null {
  const parts = path.split('/');
  const n = parts.length;
  if (parts[n - 1] !== 'package.json') return null;
  const dir = parts[n - 2];
  if (dir === undefined || dir === '' || dir.startsWith('.') || dir.startsWith('@')) return null;
  if (parts[n - 3] === 'node_modules') return dir;
  const scope = parts[n - 3];
  if (scope !== undefined && scope.length > 1 && scope.startsWith('@') && parts[n - 4] === 'node_modules') return `${scope}/${dir}`;
  return null;
}

const NAME_PART = /^(?![._])[A-Za-z0-9._~!*'()-]+$/;

/** Whether `name` is a usable npm package name (`name` or `@scope/name`, URL-safe, at most 214 characters). */
export function isNpmName(name: string): boolean {
  if (name.length === 0 || name.length > 214 || name.trim() !== name) return false;
  if (name.startsWith('@')) {
    const parts = name.slice(1).split('/');
    return parts.length === 2 && parts.every((part) => NAME_PART.test(part));
  }
  return NAME_PART.test(name);
}

/** Builds an npm scanner with the given bounds. */
export function createNpmScanner(options: Partial<NpmScannerOptions> = {}): Scanner {
  const settings: NpmScannerOptions = { ...DEFAULT_NPM_SCANNER_OPTIONS, ...options };
  return {
    name: 'nodejs',
    version: '1',
    kind: 'package',
    files: {
      match: (path, _size, mode) => {
        return isRegularFile(mode) && installedPackageDir(path) !== null;
      },
      // Each manifest is parsed as it streams by; only the package (or the note) is kept.
      extract: async (path, chunks) => {
        const parts: Buffer[] = [];
        let total = 0;
        for await (const chunk of chunks) {
          total += chunk.length;
          if (total <= settings.maxBytes) parts.push(Buffer.from(chunk));
        }
        return encode(read(path, total, Buffer.concat(parts), settings.maxBytes));
      },
    },
    scan(layer) {
      const packages: FoundPackage[] = [];
      const notes: string[] = [];
      for (const path of [...layer.files.keys()].sort()) {
        const file = layer.files.get(path);
        if (file === undefined) continue;
        const found = decode(file.data) ?? read(path, file.size, file.data, settings.maxBytes);
        if (typeof found === 'string') notes.push(found);
        else {
          packages.push(found.pkg);
          if (found.note !== undefined) notes.push(found.note);
        }
      }
      return capNotes({ packages, notes }, settings.maxNotes);
    },
  };
}

type Found = { pkg: FoundPackage; note?: string } | string;

function read(path: string, size: number, data: Buffer, maxBytes: number): Found {
  if (size > maxBytes || data.length > maxBytes) return `${path}: ${size} bytes, more than the ${maxBytes}-byte limit; skipped`;
  return packageFrom(path, data);
}

/** What `extract` keeps of one manifest. */
function encode(found: Found): Buffer {
  return Buffer.from(JSON.stringify({ npmManifest: 1, found }), 'utf8');
}

function decode(data: Buffer): Found | null {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || (value as { npmManifest?: unknown }).npmManifest !== 1) return null;
  const found = (value as { found?: unknown }).found;
  if (typeof found === 'string') return found;
  if (typeof found !== 'object' || found === null) return null;
  const { pkg, note } = found as { pkg?: Partial<FoundPackage>; note?: unknown };
  if (pkg?.ecosystem !== 'npm' || typeof pkg.name !== 'string' || typeof pkg.version !== 'string' || typeof pkg.path !== 'string') return null;
  return typeof note === 'string' ? { pkg: pkg as FoundPackage, note } : { pkg: pkg as FoundPackage };
}

function packageFrom(path: string, data: Buffer): { pkg: FoundPackage; note?: string } | string {
  let manifest: unknown;
  try {
    manifest = JSON.parse(data.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    return `${path}: not valid JSON (${(error as Error).message.slice(0, 120)}); skipped`;
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return `${path}: not a JSON object; skipped`;
  const { name, version, private: isPrivate } = manifest as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') return `${path}: no "name"; skipped`;
  if (!isNpmName(name)) return `${path}: "${name.slice(0, 100)}" is not a valid package name; skipped`;
  if (typeof version !== 'string' || version.trim() === '') return `${path}: ${name} has no "version"; skipped`;
  const installedAs = installedPackageDir(path);
  const extra: Record<string, unknown> = {};
  if (installedAs !== null && installedAs !== name) extra.installedAs = installedAs;
  if (isPrivate === true) extra.private = true;
  const pkg: FoundPackage = { ecosystem: 'npm', name, version: version.trim(), purl: npmPurl(name, version.trim()), path };
  if (Object.keys(extra).length > 0) pkg.extra = extra;
  return semver.valid(version.trim()) === null ? { pkg, note: `${path}: ${name} ${version.slice(0, 100)} is not a semantic version` } : { pkg };
}

function capNotes(result: { packages: FoundPackage[]; notes: string[] }, max: number): ScanResult {
  if (result.notes.length <= max) return result;
  const rest = result.notes.length - max;
  return { packages: result.packages, notes: [...result.notes.slice(0, max), `${rest} more note(s) left out`] };
}

/** The npm scanner: packages installed under `node_modules`, from their `package.json`. */
export const npmScanner: Scanner = createNpmScanner();
