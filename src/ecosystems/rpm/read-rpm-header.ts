/** rpm header data types (rpmTagType). */
export const RPM_TYPE = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

const TYPE_SIZE = [0, 1, 1, 2, 4, 8, -1, 1, -1, -1] as const;

/** Region tags: the first index entry of a header may mark an immutable region rather than data. */
const REGION_TAGS = new Set([61, 62, 63]);

/** Headers bigger than this are refused (rpm's own limit, `HEADER_DATA_MAX`-style). */
export const MAX_HEADER_BYTES = 256 * 1024 * 1024;

/** One tag of an rpm header: its type, element count and the bytes of its value. */
export interface RpmHeaderEntry {
  tag: number;
  type: number;
  count: number;
  /** The value's bytes inside the header's data store (a view, not a copy). */
  data: Uint8Array;
}

/** A header blob that cannot be read at all (too short, impossible sizes). */
export class RpmHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RpmHeaderError';
  }
}

/** The tags of one header, and entries that were skipped as malformed. */
export interface RpmHeader {
  entries: Map<number, RpmHeaderEntry>;
  /** Plain sentences about index entries that point outside the data store or have impossible types. */
  problems: string[];
}

/**
 * Reads an rpm header blob as the databases store it (no lead, no magic): big-endian `il` (index
 * entries) and `dl` (data bytes), `il` 16-byte entries (tag, type, offset, count), then the data
 * store. Every count, offset and length is checked against the blob: a malformed entry is skipped
 * and listed in `problems`; a blob whose sizes are impossible throws {@link RpmHeaderError}.
 * A leading region entry (tags 61–63) is not data; when a tag occurs twice the later entry wins,
 * as rpm lets "dribble" entries after the region replace region ones. Accepts a blob that still
 * carries the 8-byte header magic (`8e ad e8 01 …`), as `.rpm` files and some tests store it.
 */
export function readRpmHeader(blob: Uint8Array): RpmHeader {
  let bytes = blob;
  if (bytes.length >= 8 && bytes[0] === 0x8e && bytes[1] === 0xad && bytes[2] === 0xe8 && bytes[3] === 0x01) bytes = bytes.subarray(8);
  if (bytes.length < 8) throw new RpmHeaderError(`header blob of ${bytes.length} bytes is too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const il = view.getUint32(0);
  const dl = view.getUint32(4);
  if (il < 1 || il > 0xffffff) throw new RpmHeaderError(`header has an impossible index count ${il}`);
  if (dl > MAX_HEADER_BYTES) throw new RpmHeaderError(`header has an impossible data size ${dl}`);
  const dataStart = 8 + il * 16;
  const dataEnd = dataStart + dl;
  if (dataEnd > bytes.length) throw new RpmHeaderError(`header needs ${dataEnd} bytes but the blob has ${bytes.length}`);

  const entries = new Map<number, RpmHeaderEntry>();
  const problems: string[] = [];
  let skipped = 0;
  const store = bytes.subarray(0, dataEnd);
  // Searching string terminators costs bytes scanned; real entries do not overlap, so scanning
  // much more than the data store means entries that point at the same bytes over and over.
  const budget = { remaining: 4 * dl + 65536 };
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    const tag = view.getInt32(at);
    const type = view.getUint32(at + 4);
    const offset = view.getInt32(at + 8);
    const count = view.getUint32(at + 12);
    if (i === 0 && REGION_TAGS.has(tag)) continue;
    const length = valueLength(store, type, count, offset, dataStart, dataEnd, budget);
    if (length < 0) {
      if (skipped++ < 5) problems.push(`header entry ${i} (tag ${tag}, type ${type}, count ${count}, offset ${offset}) is malformed`);
      continue;
    }
    entries.set(tag, { tag, type, count, data: bytes.subarray(dataStart + offset, dataStart + offset + length) });
  }
  if (skipped > 5) problems.push(`${skipped - 5} more malformed header entries`);
  return { entries, problems };
}

/** The byte length of a value, or -1 when it does not fit the data store (or the scan budget is spent). */
function valueLength(store: Uint8Array, type: number, count: number, offset: number, dataStart: number, dataEnd: number, budget: { remaining: number }): number {
  if (type > RPM_TYPE.I18NSTRING || offset < 0 || dataStart + offset > dataEnd) return -1;
  const start = dataStart + offset;
  if (type === RPM_TYPE.STRING || type === RPM_TYPE.STRING_ARRAY || type === RPM_TYPE.I18NSTRING) {
    if (type === RPM_TYPE.STRING && count !== 1) return -1;
    // Each string takes at least one byte, so a count beyond the bytes left is a lie.
    if (count === 0 || count > dataEnd - start) return -1;
    let pos = start;
    for (let n = 0; n < count; n++) {
      if (budget.remaining <= 0) return -1;
      const nul = store.indexOf(0, pos);
      budget.remaining -= (nul < 0 ? dataEnd : nul + 1) - pos;
      if (nul < 0 || budget.remaining < 0) return -1;
      pos = nul + 1;
    }
    return pos - start;
  }
  const size = TYPE_SIZE[type] as number;
  const length = size * count;
  return start + length > dataEnd ? -1 : length;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The first string of a STRING, I18NSTRING or STRING_ARRAY entry (invalid UTF-8 replaced). */
export function headerString(header: RpmHeader, tag: number): string | undefined {
  const entry = header.entries.get(tag);
  if (!entry || (entry.type !== RPM_TYPE.STRING && entry.type !== RPM_TYPE.I18NSTRING && entry.type !== RPM_TYPE.STRING_ARRAY)) return undefined;
  const nul = entry.data.indexOf(0);
  return utf8.decode(entry.data.subarray(0, nul < 0 ? entry.data.length : nul));
}

/** All strings of a STRING_ARRAY (or I18NSTRING) entry; empty when absent. */
export function headerStrings(header: RpmHeader, tag: number): string[] {
  const entry = header.entries.get(tag);
  if (!entry || (entry.type !== RPM_TYPE.STRING_ARRAY && entry.type !== RPM_TYPE.I18NSTRING && entry.type !== RPM_TYPE.STRING)) return [];
  const out: string[] = [];
  let pos = 0;
  while (pos < entry.data.length && out.length < entry.count) {
    let nul = entry.data.indexOf(0, pos);
    if (nul < 0) nul = entry.data.length;
    out.push(utf8.decode(entry.data.subarray(pos, nul)));
    pos = nul + 1;
  }
  return out;
}

/** The values of an INT32 entry (or INT16/INT8/CHAR, widened; INT64 as numbers when safe); empty when absent. */
export function headerInts(header: RpmHeader, tag: number): number[] {
  const entry = header.entries.get(tag);
  if (!entry) return [];
  const view = new DataView(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
  const out: number[] = [];
  switch (entry.type) {
    case RPM_TYPE.INT32:
      for (let i = 0; i < entry.count; i++) out.push(view.getInt32(i * 4));
      break;
    case RPM_TYPE.INT16:
      for (let i = 0; i < entry.count; i++) out.push(view.getUint16(i * 2));
      break;
    case RPM_TYPE.INT8:
    case RPM_TYPE.CHAR:
      for (let i = 0; i < entry.count; i++) out.push(view.getUint8(i));
      break;
    case RPM_TYPE.INT64:
      for (let i = 0; i < entry.count; i++) out.push(Number(view.getBigUint64(i * 8)));
      break;
    default:
      break;
  }
  return out;
}

/** The bytes of a BIN entry; undefined when absent. */
export function headerBinary(header: RpmHeader, tag: number): Uint8Array | undefined {
  const entry = header.entries.get(tag);
  return entry && entry.type === RPM_TYPE.BIN ? entry.data : undefined;
}
