import picomatch from 'picomatch';
import type { FileRequest, Scanner } from '../ecosystems/scanner.ts';
import { normalizeLayerPath } from './layer-path.ts';

/** One scanner's `FileRequest`, made ready to test many paths quickly. */
export interface CompiledRequest {
  readonly scanner: string;
  /** Files bigger than this are not read for the scanner (a note says so). */
  readonly cap: number;
  readonly extract: NonNullable<FileRequest['extract']> | null;
  /**
   * Whether the scanner wants `path`. A throwing `match` predicate counts as "no" and is reported
   * once through `onError`.
   */
  wants(path: string, size: number, mode: number, onError: (message: string) => void): boolean;
}

/**
 * Compiles each scanner's request: exact paths (normalized like entry names), picomatch globs (with
 * `dot: true`, so `.pnpm` or `.cache` directories match like any other) and the predicate. A
 * request without `maxBytes` buffers files up to `fileBytes`; an `extract` request streams files of
 * any size unless it sets `maxBytes`. Throws a `TypeError` on duplicate scanner names or a bad glob.
 */
export function compileFileRequests(scanners: readonly Scanner[], fileBytes: number): CompiledRequest[] {
  const names = new Set<string>();
  return scanners.map((scanner) => {
    if (names.has(scanner.name)) throw new TypeError(`two scanners are named "${scanner.name}"`);
    names.add(scanner.name);
    return compileOne(scanner.name, scanner.files, fileBytes);
  });
}

function compileOne(scanner: string, request: FileRequest, fileBytes: number): CompiledRequest {
  const paths = new Set<string>();
  for (const raw of request.paths ?? []) {
    const normalized = normalizeLayerPath(raw);
    if (normalized === null || normalized.path === '') throw new TypeError(`scanner "${scanner}" asks for an invalid path "${raw}"`);
    paths.add(normalized.path);
  }
  let glob: ((path: string) => boolean) | null = null;
  if (request.globs !== undefined && request.globs.length > 0) {
    try {
      glob = picomatch([...request.globs], { dot: true });
    } catch (error) {
      throw new TypeError(`scanner "${scanner}" has an invalid glob: ${(error as Error).message}`, { cause: error });
    }
  }
  const match = request.match ?? null;
  let failed = false;
  const maxBytes = request.maxBytes;
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new TypeError(`scanner "${scanner}" has an invalid maxBytes ${String(maxBytes)}`);
  }
  return {
    scanner,
    cap: maxBytes ?? (request.extract === undefined ? fileBytes : Infinity),
    extract: request.extract ?? null,
    wants(path, size, mode, onError) {
      if (paths.has(path)) return true;
      if (glob !== null && glob(path)) return true;
      if (match === null || failed) return false;
      try {
        return match(path, size, mode) === true;
      } catch (error) {
        failed = true;
        onError(`file predicate threw on ${path} and was turned off for this layer: ${(error as Error)?.message ?? String(error)}`);
        return false;
      }
    },
  };
}
