import type { Scanner, ScanResult } from '../ecosystems/scanner.ts';
import type { LayerReadResult } from './layer-reader.ts';

const EMPTY = { files: new Map(), symlinks: new Map() } as const;

/**
 * Runs each scanner on what `readLayer` kept for it and returns, per scanner name, its result with
 * the read's notes for that scanner put first. A scanner that throws or returns something that is
 * not a result gets a note instead, so one bad scanner never fails the layer. Never rejects.
 */
export async function scanLayer(read: LayerReadResult, scanners: readonly Scanner[]): Promise<Map<string, ScanResult>> {
  const results = await Promise.all(scanners.map(async (scanner): Promise<[string, ScanResult]> => {
    const input = read.scanners.get(scanner.name);
    const readNotes = input?.notes ?? [];
    let result: ScanResult;
    try {
      const returned: unknown = await scanner.scan(input === undefined ? EMPTY : { files: input.files, symlinks: input.symlinks });
      result = isScanResult(returned) ? returned : { notes: ['scanner returned something that is not a scan result'] };
    } catch (error) {
      result = { notes: [`scanner failed: ${error instanceof Error ? error.message : String(error)}`] };
    }
    const notes = [...readNotes, ...(result.notes ?? [])];
    return [scanner.name, notes.length === 0 ? result : { ...result, notes }];
  }));
  return new Map(results);
}

function isScanResult(value: unknown): value is ScanResult {
  if (typeof value !== 'object' || value === null) return false;
  const { packages, distributions, notes } = value as Record<string, unknown>;
  return (packages === undefined || Array.isArray(packages))
    && (distributions === undefined || Array.isArray(distributions))
    && (notes === undefined || Array.isArray(notes));
}
