import type { Transform, TransformOptions } from 'node:stream';
import zlib from 'node:zlib';
import { LayerFormatError } from './layer-errors.ts';

/** How a layer's bytes are packed, as read from its first bytes. */
export type LayerFormat = 'gzip' | 'zstd' | 'tar';

/** Bytes needed to tell the formats apart. */
export const SNIFF_BYTES = 6;

/** Output chunk size: big enough that per-chunk work stays small next to the inflating itself. */
const CHUNK_SIZE = 256 * 1024;
/**
 * Bytes buffered on each side of the decompressor, so that inflating (on the thread pool) overlaps
 * reading, hashing and tar parsing (on the main thread) instead of taking turns with them.
 */
const READ_AHEAD = 1024 * 1024;

/**
 * The format of a stream starting with `head` (at least `SNIFF_BYTES` bytes unless the stream is
 * shorter): gzip (1f 8b), zstd (28 b5 2f fd, or a skippable frame), otherwise tar. bzip2 and xz,
 * which old Docker versions could write but OCI does not allow, get a `LayerFormatError`.
 */
export function sniffFormat(head: Uint8Array): LayerFormat {
  const [a, b, c, d, e, f] = head;
  if (a === 0x1f && b === 0x8b) return 'gzip';
  if (a === 0x28 && b === 0xb5 && c === 0x2f && d === 0xfd) return 'zstd';
  if (a !== undefined && (a & 0xf0) === 0x50 && b === 0x2a && c === 0x4d && d === 0x18) return 'zstd';
  if (a === 0xfd && b === 0x37 && c === 0x7a && d === 0x58 && e === 0x5a && f === 0x00) {
    throw new LayerFormatError('layer is xz-compressed; only gzip, zstd and plain tar layers are supported');
  }
  if (a === 0x42 && b === 0x5a && c === 0x68) {
    throw new LayerFormatError('layer is bzip2-compressed; only gzip, zstd and plain tar layers are supported');
  }
  return 'tar';
}

/** What a media type says about compression, or null when it says nothing we know. */
export function formatFromMediaType(mediaType: string): LayerFormat | null {
  const type = mediaType.toLowerCase();
  if (type.endsWith('+gzip') || type.endsWith('.gzip')) return 'gzip';
  if (type.endsWith('+zstd') || type.endsWith('.zstd')) return 'zstd';
  if (type.endsWith('.tar') || type.endsWith('/x-tar')) return 'tar';
  return null;
}

/**
 * A streaming decompressor for `format` (null for plain tar). Memory is bounded: 1 MiB each side,
 * plus gzip's 32 KiB window or the zstd window (frames asking for over 128 MiB are refused by the
 * decoder's default limit).
 */
export function createDecompressor(format: LayerFormat): Transform | null {
  // zlib hands stream options on to its Transform; its own option types leave them out.
  const stream: TransformOptions = { readableHighWaterMark: READ_AHEAD, writableHighWaterMark: READ_AHEAD };
  switch (format) {
    case 'gzip':
      return zlib.createGunzip({ chunkSize: CHUNK_SIZE, ...stream } as zlib.ZlibOptions);
    case 'zstd':
      return zlib.createZstdDecompress({ chunkSize: CHUNK_SIZE, ...stream } as zlib.ZstdOptions);
    case 'tar':
      return null;
  }
}
