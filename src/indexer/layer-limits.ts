/**
 * Bounds on what one layer may cost. Every size in a layer is chosen by whoever pushed the image,
 * so each has a ceiling; crossing one fails the layer with a `LayerLimitError` naming it.
 */
export interface LayerLimits {
  /** Bytes read from the blob as it arrives (the compressed size). */
  compressedBytes: number;
  /** Bytes of tar after decompression; stops decompression bombs while they stream. */
  decompressedBytes: number;
  /** Tar entries (files, directories, links, whiteouts) in one layer. */
  entries: number;
  /** The largest wanted file buffered for a scanner whose request sets no `maxBytes`. */
  fileBytes: number;
  /** All bytes kept from one layer together: bodies, `extract` results, kept names and link targets, whiteouts. */
  keptBytes: number;
}

/** Defaults sized for real images (multi-GB layers, rpm databases of tens of MB) on a modest worker. */
export const DEFAULT_LAYER_LIMITS: Readonly<LayerLimits> = Object.freeze({
  compressedBytes: 8 * 1024 ** 3,
  decompressedBytes: 32 * 1024 ** 3,
  entries: 1_000_000,
  fileBytes: 64 * 1024 ** 2,
  keptBytes: 512 * 1024 ** 2,
});

const NAMES = Object.keys(DEFAULT_LAYER_LIMITS) as (keyof LayerLimits)[];

/**
 * The defaults overlaid with `overrides`. Throws a `TypeError` naming the key when a value is not a
 * positive integer (or `Infinity`) or the key is unknown; the result is frozen.
 */
export function resolveLayerLimits(overrides: Partial<LayerLimits> = {}): Readonly<LayerLimits> {
  const limits: LayerLimits = { ...DEFAULT_LAYER_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (!NAMES.includes(key as keyof LayerLimits)) throw new TypeError(`unknown layer limit "${key}"`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value === Infinity || (Number.isSafeInteger(value) && value > 0))) {
      throw new TypeError(`layer limit "${key}" must be a positive integer, got ${String(value)}`);
    }
    limits[key as keyof LayerLimits] = value;
  }
  return Object.freeze(limits);
}
