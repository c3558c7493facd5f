/**
 * Writers for rpm test data the shared fixtures lack: rpm header blobs with chosen tags, and
 * Berkeley DB hash files holding many headers (the real BDB samples hold one package each).
 * The layouts follow rpm's header format and Berkeley DB's hash page format; the readers are
 * checked against real files separately, these exercise scale and corruption.
 */

/** One tag to write: strings, string arrays, int32 arrays or bytes. */
export type HeaderValue =
  | { type: 'string'; value: string }
  | { type: 'i18n'; value: string }
  | { type: 'strings'; value: string[] }
  | { type: 'int32'; value: number[] }
  | { type: 'bin'; value: Uint8Array };

const TYPE_CODE = { string: 6, i18n: 9, strings: 8, int32: 4, bin: 7 } as const;

/** An rpm header blob (as stored in rpm databases) with an immutable region entry and `tags`. */
export function buildRpmHeader(tags: Record<number, HeaderValue>): Buffer {
  const entries = Object.entries(tags).map(([tag, v]) => ({ tag: Number(tag), v })).sort((a, b) => a.tag - b.tag);
  const data: Buffer[] = [];
  let size = 0;
  const index: Array<[number, number, number, number]> = [];
  for (const { tag, v } of entries) {
    let bytes: Buffer;
    let count: number;
    if (v.type === 'string' || v.type === 'i18n') {
      bytes = Buffer.from(`${v.value}\0`);
      count = 1;
    } else if (v.type === 'strings') {
      bytes = Buffer.from(v.value.map((s) => `${s}\0`).join(''));
      count = v.value.length;
    } else if (v.type === 'int32') {
      const pad = (4 - (size % 4)) % 4;
      if (pad) {
        data.push(Buffer.alloc(pad));
        size += pad;
      }
      bytes = Buffer.alloc(4 * v.value.length);
      v.value.forEach((n, i) => bytes.writeInt32BE(n, i * 4));
      count = v.value.length;
    } else {
      bytes = Buffer.from(v.value);
      count = v.value.length;
    }
    index.push([tag, TYPE_CODE[v.type], size, count]);
    data.push(bytes);
    size += bytes.length;
  }
  const il = index.length + 1;
  // Region trailer at the end of the data: (63, BIN, -(il * 16), 16).
  const trailer = Buffer.alloc(16);
  trailer.writeInt32BE(63, 0);
  trailer.writeUInt32BE(7, 4);
  trailer.writeInt32BE(-(il * 16), 8);
  trailer.writeUInt32BE(16, 12);
  const region: [number, number, number, number] = [63, 7, size, 16];
  data.push(trailer);
  size += 16;
  const head = Buffer.alloc(8 + il * 16);
  head.writeUInt32BE(il, 0);
  head.writeUInt32BE(size, 4);
  [region, ...index].forEach(([tag, type, offset, count], i) => {
    head.writeInt32BE(tag, 8 + i * 16);
    head.writeUInt32BE(type, 12 + i * 16);
    head.writeInt32BE(offset, 16 + i * 16);
    head.writeUInt32BE(count, 20 + i * 16);
  });
  return Buffer.concat([head, ...data]);
}

/** Options of {@link buildBdbHash}. */
export interface BdbOptions {
  pageSize?: number;
  bigEndian?: boolean;
  /** Values up to this size are stored inline on the hash page; bigger ones in overflow chains. */
  inlineMax?: number;
}

/**
 * A Berkeley DB hash file (rpm `Packages`) holding `values` under keys 1..n, plus rpm's key-0
 * record, laid out as: metadata page, hash pages (key/data pairs), then overflow pages.
 */
export function buildBdbHash(values: Uint8Array[], options: BdbOptions = {}): Buffer {
  const pageSize = options.pageSize ?? 4096;
  const be = options.bigEndian ?? false;
  const inlineMax = options.inlineMax ?? 0;
  const u32 = (buf: Buffer, at: number, v: number) => (be ? buf.writeUInt32BE(v, at) : buf.writeUInt32LE(v, at));
  const u16 = (buf: Buffer, at: number, v: number) => (be ? buf.writeUInt16BE(v, at) : buf.writeUInt16LE(v, at));
  const key = (n: number) => {
    const k = Buffer.alloc(5);
    k[0] = 1;
    u32(k, 1, n);
    return k;
  };

  // Items for hash pages: [key item, data item]; overflow data is filled in once pages are numbered.
  type Pair = { key: Buffer; data: Buffer; overflow?: Uint8Array };
  const pairs: Pair[] = [{ key: key(0), data: Buffer.from([1, 0, 0, 0, values.length]) }];
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as Uint8Array;
    if (value.length <= inlineMax) pairs.push({ key: key(i + 1), data: Buffer.concat([Buffer.from([1]), value]) });
    else pairs.push({ key: key(i + 1), data: Buffer.alloc(12), overflow: value });
  }
  // Distribute pairs over hash pages.
  const hashPages: Pair[][] = [[]];
  let free = pageSize - 26;
  for (const pair of pairs) {
    const need = pair.key.length + pair.data.length + 4;
    if (need > free && (hashPages[hashPages.length - 1] as Pair[]).length > 0) {
      hashPages.push([]);
      free = pageSize - 26;
    }
    (hashPages[hashPages.length - 1] as Pair[]).push(pair);
    free -= need;
  }
  let nextPage = 1 + hashPages.length;
  const overflowPages: Buffer[] = [];
  for (const pair of pairs) {
    if (!pair.overflow) continue;
    const chunk = pageSize - 26;
    const n = Math.max(1, Math.ceil(pair.overflow.length / chunk));
    const first = nextPage;
    for (let p = 0; p < n; p++) {
      const page = Buffer.alloc(pageSize);
      const part = pair.overflow.subarray(p * chunk, (p + 1) * chunk);
      u32(page, 8, first + p);
      u32(page, 12, p === 0 ? 0 : first + p - 1);
      u32(page, 16, p === n - 1 ? 0 : first + p + 1);
      u16(page, 22, part.length);
      page[25] = 7;
      Buffer.from(part).copy(page, 26);
      overflowPages.push(page);
    }
    nextPage += n;
    pair.data[0] = 3;
    u32(pair.data, 4, first);
    u32(pair.data, 8, pair.overflow.length);
  }
  const pages: Buffer[] = [];
  const meta = Buffer.alloc(pageSize);
  u32(meta, 12, 0x061561);
  u32(meta, 16, 9);
  u32(meta, 20, pageSize);
  meta[25] = 8;
  u32(meta, 32, nextPage - 1);
  pages.push(meta);
  hashPages.forEach((items, i) => {
    const page = Buffer.alloc(pageSize);
    u32(page, 8, i + 1);
    u16(page, 20, items.length * 2);
    page[25] = 13;
    let top = pageSize;
    let slot = 0;
    for (const pair of items) {
      for (const item of [pair.key, pair.data]) {
        top -= item.length;
        item.copy(page, top);
        u16(page, 26 + slot * 2, top);
        slot++;
      }
    }
    u16(page, 22, top);
    pages.push(page);
  });
  return Buffer.concat([...pages, ...overflowPages]);
}
