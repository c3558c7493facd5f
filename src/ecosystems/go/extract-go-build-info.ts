import { ByteTap, findMatches } from './byte-tap.ts';
import { elfFileOffset, readElfLoadMap, type ElfSegment } from './elf-load-map.ts';

/** What a Go executable says about how it was built. */
export interface GoBuildInfo {
  /** The executable format, told from the first bytes. */
  format: 'elf' | 'macho' | 'pe';
  /** The toolchain as the binary states it (`go1.22.1`, `go1.21rc2 X:boringcrypto`), or null when unreadable. */
  goVersion: string | null;
  /** The module information (`path`, `mod`, `dep`, `=>`, `build` lines) without its sentinels, or null. */
  modinfo: string | null;
  /** What could not be read, in plain words. */
  notes: string[];
}

/** Bounds on what is kept from one executable. */
export interface GoBuildInfoLimits {
  /** The largest module information text kept. */
  modinfoBytes: number;
  /** The longest toolchain version string accepted. */
  versionBytes: number;
  /** How many `go1.` strings are remembered to resolve pre-1.18 build info. */
  candidates: number;
}

/** Defaults: module information up to 1 MiB, versions up to 256 bytes, 4096 remembered `go1.` strings. */
export const DEFAULT_GO_BUILD_INFO_LIMITS: Readonly<GoBuildInfoLimits> = Object.freeze({
  modinfoBytes: 1024 * 1024,
  versionBytes: 256,
  candidates: 4096,
});

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const INFO_START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const INFO_END = Buffer.from('f932433186182072008242104116d8f2', 'hex');
const GO1 = Buffer.from('go1.', 'latin1');
/** Longest pattern minus one: what is kept of a chunk to find patterns that straddle two chunks. */
const CARRY = 15;
const HEAD_BYTES = 8192;
const HEADER_BYTES = 32;
const MAX_HEADER_CANDIDATES = 16;
const MAX_SENTINEL_CANDIDATES = 8;
const CANDIDATE_BYTES = 64;

type Format = GoBuildInfo['format'];

function detectFormat(head: Buffer): Format | null {
  if (head.length >= 4) {
    const magic = head.readUInt32BE(0);
    if (magic === 0x7f454c46) return 'elf';
    if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic)) return 'macho';
  }
  if (head.length >= 2 && head[0] === 0x4d && head[1] === 0x5a) return 'pe';
  return null;
}

/** Go's `binary.Uvarint`: the value and the offset after it, 'more' when cut short, 'bad' on overflow. */
function readUvarint(buf: Buffer, at: number): { value: number; next: number } | 'more' | 'bad' {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const byte = buf[at + i];
    if (byte === undefined) return 'more';
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value > Number.MAX_SAFE_INTEGER ? 'bad' : { value, next: at + i + 1 };
    scale *= 128;
  }
  return 'bad';
}

/** Go's `debug/buildinfo` rule: module info is framed by 16-byte sentinels and ends with a newline. */
function unframeModinfo(raw: Buffer): string {
  if (raw.length >= 33 && raw[raw.length - 17] === 0x0a) return raw.subarray(16, raw.length - 16).toString('utf8');
  return '';
}

type HeaderResult =
  | { kind: 'more' }
  | { kind: 'bad' }
  | { kind: 'inline'; goVersion: string; modinfo: string | null; note?: string }
  | { kind: 'pointer'; ptrSize: number; bigEndian: boolean; versionAddr: number };

/**
 * Streams an executable and keeps only its Go build info, with a small sliding window: the
 * 32-byte header that starts with `\xff Go buildinf:` at a 16-byte aligned offset (Go 1.18+ writes
 * the version and module info inline after it); for older binaries the module info is found
 * between its sentinels, and on ELF the version through the header's pointers. Reads the stream
 * to its end either way. Null when the file is not a Go executable.
 */
export async function extractGoBuildInfo(
  chunks: AsyncIterable<Buffer>,
  limits: Readonly<GoBuildInfoLimits> = DEFAULT_GO_BUILD_INFO_LIMITS,
): Promise<GoBuildInfo | null> {
  const reader = new BuildInfoReader(limits);
  for await (const chunk of chunks) reader.push(chunk);
  return reader.finish();
}

class BuildInfoReader {
  readonly #limits: Readonly<GoBuildInfoLimits>;
  #pos = 0;
  #carry: Buffer = Buffer.alloc(0);
  #head: Buffer[] = [];
  #headLength = 0;
  #format: Format | null | 'none' = null;
  #done = false;
  #notes: string[] = [];
  #headerTaps: ByteTap[] = [];
  #sawHeader = false;
  #inline: { goVersion: string; modinfo: string | null } | null = null;
  #sentinelTaps: ByteTap[] = [];
  #sentinelModinfo: string | null = null;
  #candidates = new Map<number, ByteTap>();
  #pointer: { ptrSize: number; bigEndian: boolean } | null = null;
  #stringHeaderTap: ByteTap | null = null;
  #versionTap: ByteTap | null = null;
  #pointerVersion: string | null = null;
  #loads: ElfSegment[] | null | undefined = undefined;

  constructor(limits: Readonly<GoBuildInfoLimits>) {
    this.#limits = limits;
  }

  push(chunk: Buffer): void {
    if (this.#done || chunk.length === 0) {
      this.#pos += chunk.length;
      return;
    }
    if (this.#headLength < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.#headLength);
      this.#head.push(Buffer.from(part));
      this.#headLength += part.length;
    }
    if (this.#format === null) {
      const format = detectFormat(this.#headBytes());
      if (format !== null) this.#format = format;
      else if (this.#headLength >= 4) this.#format = 'none';
      if (this.#format === 'none') {
        this.#done = true;
        this.#pos += chunk.length;
        return;
      }
    }
    this.#search(chunk);
    this.#feed(chunk);
    this.#evaluate(false, chunk);
    const joined = chunk.length >= CARRY ? chunk.subarray(chunk.length - CARRY) : Buffer.concat([this.#carry, chunk]).subarray(-CARRY);
    this.#carry = Buffer.from(joined);
    this.#pos += chunk.length;
  }

  finish(): GoBuildInfo | null {
    if (!this.#done) this.#evaluate(true, null);
    const format = this.#format;
    if (format === null || format === 'none') return null;
    if (!this.#sawHeader && this.#sentinelModinfo === null) return null;
    let goVersion: string | null = null;
    let modinfo: string | null = null;
    if (this.#inline !== null) {
      goVersion = this.#inline.goVersion;
      modinfo = this.#inline.modinfo;
    } else {
      goVersion = this.#pointerVersion;
      modinfo = this.#sentinelModinfo;
      if (this.#sawHeader && goVersion === null) {
        this.#notes.push(`the Go version of this pre-1.18 binary (${format}) could not be read; the standard library is not reported`);
      }
      if (!this.#sawHeader) this.#notes.push('module information found but no build info header; the Go version is unknown');
    }
    return { format, goVersion, modinfo, notes: this.#notes };
  }

  #headBytes(): Buffer {
    if (this.#head.length !== 1) this.#head = [Buffer.concat(this.#head)];
    return this.#head[0] ?? Buffer.alloc(0);
  }

  #search(chunk: Buffer): void {
    const base = this.#pos;
    if (this.#inline === null && this.#pointer === null) {
      findMatches(MAGIC, this.#carry, chunk, base, (offset) => {
        if (offset % 16 !== 0 || this.#headerTaps.length >= MAX_HEADER_CANDIDATES) return;
        const limit = HEADER_BYTES + 20 + this.#limits.versionBytes + this.#limits.modinfoBytes + 32;
        this.#headerTaps.push(new ByteTap(offset, limit));
      });
    }
    if (this.#sentinelModinfo === null && this.#inline === null) {
      findMatches(INFO_START, this.#carry, chunk, base, (offset) => {
        if (this.#sentinelTaps.length < MAX_SENTINEL_CANDIDATES) {
          this.#sentinelTaps.push(new ByteTap(offset, this.#limits.modinfoBytes + 2 * INFO_START.length));
        }
      });
    }
    if (this.#format === 'elf' && this.#inline === null && this.#candidates.size < this.#limits.candidates) {
      findMatches(GO1, this.#carry, chunk, base, (offset) => {
        if (this.#candidates.size < this.#limits.candidates) this.#candidates.set(offset, new ByteTap(offset, CANDIDATE_BYTES));
      });
    }
  }

  #feed(chunk: Buffer): void {
    const carryBase = this.#pos - this.#carry.length;
    for (const tap of this.#taps()) {
      if (tap.full) continue;
      tap.feed(this.#carry, carryBase);
      tap.feed(chunk, this.#pos);
    }
  }

  *#taps(): Iterable<ByteTap> {
    yield* this.#headerTaps;
    yield* this.#sentinelTaps;
    yield* this.#candidates.values();
    if (this.#stringHeaderTap !== null) yield this.#stringHeaderTap;
    if (this.#versionTap !== null) yield this.#versionTap;
  }

  /** Earliest absolute offset still offered to a new tap (the carry's first byte). */
  #earliest(): number {
    return this.#pos - this.#carry.length;
  }

  #evaluate(final: boolean, chunk: Buffer | null): void {
    this.#evaluateHeaders(final, chunk);
    if (this.#done) return;
    this.#evaluateSentinels(final);
    this.#evaluatePointers(final, chunk);
  }

  #evaluateHeaders(final: boolean, chunk: Buffer | null): void {
    for (const tap of [...this.#headerTaps]) {
      const result = this.#parseHeader(tap.bytes(), tap.full || final);
      if (result.kind === 'more') continue;
      this.#headerTaps = this.#headerTaps.filter((t) => t !== tap);
      if (result.kind === 'bad') continue;
      this.#sawHeader = true;
      this.#headerTaps = [];
      if (result.kind === 'inline') {
        this.#inline = { goVersion: result.goVersion, modinfo: result.modinfo };
        if (result.note !== undefined) this.#notes.push(result.note);
        this.#done = true;
        this.#sentinelTaps = [];
        this.#candidates.clear();
        return;
      }
      this.#pointer = { ptrSize: result.ptrSize, bigEndian: result.bigEndian };
      this.#openTap('string', this.#fileOffset(result.versionAddr), 2 * result.ptrSize, chunk);
      return;
    }
  }

  #parseHeader(b: Buffer, complete: boolean): HeaderResult {
    const more: HeaderResult = complete ? { kind: 'bad' } : { kind: 'more' };
    if (b.length < HEADER_BYTES) return more;
    const ptrSize = b[14] as number;
    const flags = b[15] as number;
    if ((ptrSize !== 4 && ptrSize !== 8) || (flags & ~3) !== 0) return { kind: 'bad' };
    if ((flags & 2) === 0) {
      const bigEndian = (flags & 1) !== 0;
      const address = ptrSize === 8
        ? Number(bigEndian ? b.readBigUInt64BE(16) : b.readBigUInt64LE(16))
        : bigEndian ? b.readUInt32BE(16) : b.readUInt32LE(16);
      return { kind: 'pointer', ptrSize, bigEndian, versionAddr: address };
    }
    const versionLength = readUvarint(b, HEADER_BYTES);
    if (versionLength === 'more') return more;
    if (versionLength === 'bad' || versionLength.value > this.#limits.versionBytes) return { kind: 'bad' };
    const versionEnd = versionLength.next + versionLength.value;
    if (b.length < versionEnd) return more;
    const goVersion = b.subarray(versionLength.next, versionEnd).toString('utf8');
    if (!/^(go1|devel)/.test(goVersion)) return { kind: 'bad' };
    const infoLength = readUvarint(b, versionEnd);
    if (infoLength === 'more') return complete ? { kind: 'inline', goVersion, modinfo: null, note: 'the build info is cut short' } : more;
    if (infoLength === 'bad') return { kind: 'inline', goVersion, modinfo: null, note: 'the module information length is unreadable' };
    if (infoLength.value > this.#limits.modinfoBytes + 32) {
      return { kind: 'inline', goVersion, modinfo: null, note: `the module information (${infoLength.value} bytes) is larger than the ${this.#limits.modinfoBytes}-byte limit and was skipped` };
    }
    const infoEnd = infoLength.next + infoLength.value;
    if (b.length < infoEnd) return complete ? { kind: 'inline', goVersion, modinfo: null, note: 'the module information is cut short' } : more;
    return { kind: 'inline', goVersion, modinfo: unframeModinfo(b.subarray(infoLength.next, infoEnd)) };
  }

  #evaluateSentinels(final: boolean): void {
    if (this.#sentinelModinfo !== null) return;
    for (const tap of [...this.#sentinelTaps]) {
      const b = tap.bytes();
      const end = b.indexOf(INFO_END, INFO_START.length);
      if (end !== -1) {
        const text = unframeModinfo(b.subarray(0, end + INFO_END.length));
        if (text !== '') {
          this.#sentinelModinfo = text;
          this.#sentinelTaps = [];
          return;
        }
      }
      if (end !== -1 || tap.full || final) this.#sentinelTaps = this.#sentinelTaps.filter((t) => t !== tap);
    }
  }

  #evaluatePointers(final: boolean, chunk: Buffer | null): void {
    const pointer = this.#pointer;
    if (pointer === null) return;
    const header = this.#stringHeaderTap;
    if (header !== null && header.full) {
      this.#stringHeaderTap = null;
      const b = header.bytes();
      const { ptrSize, bigEndian } = pointer;
      const read = (at: number): number => ptrSize === 8
        ? Number(bigEndian ? b.readBigUInt64BE(at) : b.readBigUInt64LE(at))
        : bigEndian ? b.readUInt32BE(at) : b.readUInt32LE(at);
      const address = read(0);
      const length = read(ptrSize);
      if (length === 0 || length > this.#limits.versionBytes) return;
      const offset = this.#fileOffset(address);
      const candidate = offset === null ? undefined : this.#candidates.get(offset);
      if (candidate !== undefined && candidate.length >= length) {
        this.#takeVersion(candidate.bytes().subarray(0, length));
      } else {
        this.#openTap('version', offset, length, chunk);
      }
    }
    const version = this.#versionTap;
    if (version !== null && version.full) {
      this.#versionTap = null;
      this.#takeVersion(version.bytes());
    }
    if (this.#pointerVersion !== null && this.#sentinelModinfo !== null) this.#done = true;
    if (final) {
      this.#stringHeaderTap = null;
      this.#versionTap = null;
    }
  }

  #takeVersion(bytes: Buffer): void {
    const text = bytes.toString('latin1');
    if (/^(go1|devel)[\x20-\x7e]*$/.test(text)) {
      this.#pointerVersion = text;
      this.#candidates.clear();
    }
  }

  #fileOffset(address: number): number | null {
    if (this.#format !== 'elf') return null;
    if (this.#loads === undefined) this.#loads = readElfLoadMap(this.#headBytes());
    return this.#loads === null ? null : elfFileOffset(this.#loads, address);
  }

  /** Starts collecting `length` bytes at `offset` if they have not streamed past yet. */
  #openTap(kind: 'string' | 'version', offset: number | null, length: number, chunk: Buffer | null): void {
    if (offset === null || offset < this.#earliest()) return;
    const tap = new ByteTap(offset, length);
    if (chunk !== null) {
      tap.feed(this.#carry, this.#earliest());
      tap.feed(chunk, this.#pos);
    }
    if (kind === 'string') this.#stringHeaderTap = tap;
    else this.#versionTap = tap;
  }
}

/** The build info as bytes (what the scanner's `extract` hands over), and back. */
export function encodeGoBuildInfo(info: GoBuildInfo): Buffer {
  return Buffer.from(JSON.stringify({ goBuildInfo: 1, ...info }), 'utf8');
}

/** Reads back what `encodeGoBuildInfo` wrote; null for anything else. */
export function decodeGoBuildInfo(data: Buffer): GoBuildInfo | null {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || (value as { goBuildInfo?: unknown }).goBuildInfo !== 1) return null;
  const v = value as Record<string, unknown>;
  const format = v.format;
  if (format !== 'elf' && format !== 'macho' && format !== 'pe') return null;
  const text = (x: unknown): string | null => (typeof x === 'string' ? x : null);
  const notes = Array.isArray(v.notes) ? v.notes.filter((n): n is string => typeof n === 'string') : [];
  return { format, goVersion: text(v.goVersion), modinfo: text(v.modinfo), notes };
}
