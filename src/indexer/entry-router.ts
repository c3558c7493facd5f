import type { Header } from 'tar-stream';
import type { LayerFile, LayerFiles } from '../ecosystems/scanner.ts';
import { ChunkChannel } from './chunk-channel.ts';
import { S_IFLNK, S_IFREG } from '../ecosystems/scanner.ts';
import type { CompiledRequest } from './file-requests.ts';
import { LayerLimitError } from './layer-errors.ts';
import type { LayerLimits } from './layer-limits.ts';
import { normalizeLayerPath } from './layer-path.ts';
import { NoteList } from './note-list.ts';
import { whiteoutOf, type Whiteout } from './whiteouts.ts';

/** An entry body as tar-stream hands it over: readable once, in order. */
export interface EntryBody extends AsyncIterable<Buffer> {
  /** Byte offset of the entry's header in the tar stream. */
  readonly offset: number;
  resume(): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
}

/** What one scanner is given from one layer, and what was left out for it, in plain words. */
export interface ScannerFiles extends LayerFiles {
  readonly notes: readonly string[];
}

interface ScannerState {
  readonly request: CompiledRequest;
  readonly files: Map<string, LayerFile>;
  readonly symlinks: Map<string, string>;
  readonly notes: NoteList;
}

/** A body buffered whole, shared by every scanner that wanted it. */
interface KeptBody {
  size: number;
  mode: number;
  data: Buffer;
}

const PERMISSIONS = 0o7777;

/**
 * Sends each tar entry of one layer where it is wanted: bodies some scanner asked for are read
 * once (buffered, or streamed through `extract`), all others are drained unread; whiteouts are
 * recorded; names are normalized so nothing lands outside the root. Limits on entries and kept
 * bytes throw `LayerLimitError`. Later entries at a path replace earlier ones, as on extraction.
 */
export class EntryRouter {
  readonly #states: ScannerState[];
  readonly #limits: Readonly<LayerLimits>;
  readonly #notes: NoteList;
  readonly #whiteouts: Whiteout[] = [];
  /** Raw bodies kept for buffering scanners, by path (also what hard links resolve to). */
  readonly #kept = new Map<string, KeptBody>();
  /** Every path present in some scanner's files or symlinks, to make replacing cheap. */
  readonly #given = new Set<string>();
  /** Bytes counted against `keptBytes` for each path (its body and what was extracted from it). */
  readonly #charged = new Map<string, number>();
  #keptBytes = 0;
  #entries = 0;
  #end = 0;

  constructor(requests: readonly CompiledRequest[], limits: Readonly<LayerLimits>, notes: NoteList) {
    this.#states = requests.map((request) => ({ request, files: new Map(), symlinks: new Map(), notes: new NoteList() }));
    this.#limits = limits;
    this.#notes = notes;
  }

  /** Entries seen so far. */
  get entries(): number {
    return this.#entries;
  }

  /** Where the last entry (header and padded body) ends in the tar stream. */
  get lastEntryEnd(): number {
    return this.#end;
  }

  /** Whiteouts in the order they appeared. */
  get whiteouts(): Whiteout[] {
    return this.#whiteouts;
  }

  /** Per scanner name, what it is given. */
  result(): Map<string, ScannerFiles> {
    return new Map(this.#states.map((state) => [state.request.scanner, { files: state.files, symlinks: state.symlinks, notes: state.notes.toArray() }]));
  }

  /**
   * Handles one entry. Returns null when there is no body to wait for (the next entry may follow
   * at once), otherwise a promise that settles when the body has been consumed.
   */
  handle(header: Header, body: EntryBody): Promise<void> | null {
    this.#entries++;
    if (this.#entries > this.#limits.entries) {
      throw new LayerLimitError('entries', this.#limits.entries, `more than ${this.#limits.entries} tar entries`);
    }
    const hasBody = header.size > 0 && header.type !== 'directory';
    this.#end = body.offset + 512 + (hasBody ? Math.ceil(header.size / 512) * 512 : 0);
    if (hasBody && header.size > this.#limits.decompressedBytes) {
      throw new LayerLimitError('decompressedBytes', this.#limits.decompressedBytes, `entry ${quote(header.name)} declares ${header.size} bytes`);
    }

    const normalized = normalizeLayerPath(header.name);
    if (normalized === null) {
      this.#notes.add(`skipped an entry whose name is over 4096 characters or holds a NUL byte (${quote(header.name.slice(0, 80))}…)`);
      return hasBody ? drain(body) : null;
    }
    const { path } = normalized;
    if (normalized.escaped) this.#notes.add(`entry ${quote(header.name)} climbs out of the root; read as ${quote(path)}`);
    if (path === '') return hasBody ? drain(body) : null;

    const whiteout = whiteoutOf(path);
    if (whiteout !== null) {
      if (whiteout !== 'reserved') {
        this.#reserve(whiteout.path.length, null);
        this.#whiteouts.push(whiteout);
      }
      return hasBody ? drain(body) : null;
    }

    if (this.#given.has(path)) this.#forget(path);
    const permissions = header.mode & PERMISSIONS;
    switch (header.type) {
      case 'file':
      case 'contiguous-file':
        return this.#file(path, header.size, S_IFREG | permissions, body);
      case 'symlink':
        this.#symlink(path, header.linkname ?? '', S_IFLNK | permissions);
        break;
      case 'link':
        this.#hardLink(path, header.linkname ?? '', S_IFREG | permissions);
        break;
      case 'directory':
      case 'character-device':
      case 'block-device':
      case 'fifo':
        break;
      default:
        this.#notes.add(`skipped entry ${quote(path)} of an unsupported tar type`);
    }
    return hasBody ? drain(body) : null;
  }

  #file(path: string, size: number, mode: number, body: EntryBody): Promise<void> | null {
    const buffering: ScannerState[] = [];
    const extracting: ScannerState[] = [];
    for (const state of this.#states) {
      if (!state.request.wants(path, size, mode, (message) => state.notes.add(message))) continue;
      if (size > state.request.cap) {
        state.notes.add(`skipped ${path}: ${size} bytes is over this scanner's cap of ${state.request.cap}`);
        continue;
      }
      (state.request.extract === null ? buffering : extracting).push(state);
    }
    if (buffering.length === 0 && extracting.length === 0) return size > 0 ? drain(body) : null;
    if (buffering.length > 0) this.#reserve(size + path.length, path);
    if (size === 0 && extracting.length === 0) {
      this.#keep(path, { size, mode, data: Buffer.alloc(0) }, buffering);
      return null;
    }
    return this.#read(path, size, mode, body, buffering, extracting);
  }

  async #read(path: string, size: number, mode: number, body: EntryBody, buffering: ScannerState[], extracting: ScannerState[]): Promise<void> {
    const data = buffering.length > 0 ? Buffer.allocUnsafeSlow(size) : null;
    const channels = extracting.map(() => new ChunkChannel());
    const results = extracting.map((state, i) => runExtract(state.request, path, channels[i]!));
    let offset = 0;
    try {
      if (size > 0) {
        for await (const chunk of body) {
          if (offset + chunk.length > size) throw new Error(`entry ${path} is longer than its header says`);
          if (data !== null) data.set(chunk, offset);
          offset += chunk.length;
          const taken = channels.length > 0 ? pushAll(channels, chunk) : undefined;
          if (taken !== undefined) await taken;
        }
      }
      for (const channel of channels) channel.end();
    } catch (error) {
      for (const channel of channels) channel.fail(error);
      throw error;
    }
    if (offset !== size) throw new Error(`entry ${path} is shorter than its header says`);
    if (data !== null) this.#keep(path, { size, mode, data }, buffering);

    const outcomes = await Promise.all(results);
    outcomes.forEach((outcome, i) => {
      const state = extracting[i]!;
      if (outcome.error !== undefined) {
        state.notes.add(`reading ${path} failed: ${outcome.error}`);
      } else if (outcome.data !== null) {
        if (outcome.data.length > this.#limits.fileBytes) {
          state.notes.add(`skipped ${path}: what was extracted (${outcome.data.length} bytes) is over the cap of ${this.#limits.fileBytes}`);
          return;
        }
        this.#reserve(outcome.data.length + path.length, path);
        state.files.set(path, { path, size, mode, data: outcome.data });
        this.#given.add(path);
      }
    });
  }

  #symlink(path: string, target: string, mode: number): void {
    for (const state of this.#states) {
      if (!state.request.wants(path, 0, mode, (message) => state.notes.add(message))) continue;
      if (!this.#given.has(path)) this.#reserve(path.length + target.length, path);
      state.symlinks.set(path, target);
      this.#given.add(path);
    }
  }

  /** A hard link is the target's content under another name: wanted link paths get the target's bytes. */
  #hardLink(path: string, linkname: string, mode: number): void {
    const target = normalizeLayerPath(linkname)?.path ?? '';
    const kept = this.#kept.get(target);
    for (const state of this.#states) {
      const own = state.files.get(target);
      const size = own?.size ?? kept?.size ?? 0;
      if (!state.request.wants(path, size, mode, (message) => state.notes.add(message))) continue;
      if (own !== undefined) {
        state.files.set(path, { ...own, path, mode });
      } else if (kept !== undefined && state.request.extract === null && kept.size <= state.request.cap) {
        state.files.set(path, { path, size: kept.size, mode, data: kept.data });
      } else {
        state.notes.add(`skipped ${path}: it is a hard link to ${quote(linkname)}, whose content was not kept`);
        continue;
      }
      if (!this.#given.has(path)) this.#reserve(path.length, path);
      this.#given.add(path);
    }
  }

  #keep(path: string, body: KeptBody, states: readonly ScannerState[]): void {
    this.#kept.set(path, body);
    this.#given.add(path);
    for (const state of states) state.files.set(path, { path, size: body.size, mode: body.mode, data: body.data });
  }

  /**
   * Counts `bytes` (a body, an extract's result, or the path and link strings themselves, which a
   * layer can make 4 KiB each) against `keptBytes`; `path` is null for whiteouts, never forgotten.
   */
  #reserve(bytes: number, path: string | null): void {
    if (this.#keptBytes + bytes > this.#limits.keptBytes) {
      const what = path === null ? 'the whiteouts' : `${path} (${bytes} bytes)`;
      throw new LayerLimitError('keptBytes', this.#limits.keptBytes, `keeping ${what} for scanners would pass it`);
    }
    this.#keptBytes += bytes;
    if (path !== null) this.#charged.set(path, (this.#charged.get(path) ?? 0) + bytes);
  }

  /** Drops what an earlier entry at `path` gave the scanners: a later entry replaces it. */
  #forget(path: string): void {
    this.#keptBytes -= this.#charged.get(path) ?? 0;
    this.#charged.delete(path);
    this.#kept.delete(path);
    for (const state of this.#states) {
      state.files.delete(path);
      state.symlinks.delete(path);
    }
    this.#given.delete(path);
  }
}

type ExtractOutcome = { data: Buffer | null; error?: undefined } | { data?: undefined; error: string };

/** Runs a scanner's extract over one file's chunks; never rejects. */
async function runExtract(request: CompiledRequest, path: string, channel: ChunkChannel): Promise<ExtractOutcome> {
  try {
    const result: unknown = await request.extract!(path, channel);
    if (result === null || result === undefined) return { data: null };
    if (!(result instanceof Uint8Array)) return { error: 'extract returned something other than bytes or null' };
    // A copy, so a small result never pins the large chunk it may be a view of.
    return { data: Buffer.from(result) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    channel.close();
  }
}

function pushAll(channels: readonly ChunkChannel[], chunk: Buffer): Promise<unknown> | undefined {
  let waits: Promise<void>[] | null = null;
  for (const channel of channels) {
    const wait = channel.push(chunk);
    if (wait !== undefined) (waits ??= []).push(wait);
  }
  return waits === null ? undefined : Promise.all(waits);
}

/** A name for a message: JSON-quoted and cut to 200 characters. */
function quote(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

/** Reads a body to its end without keeping any of it. */
function drain(body: EntryBody): Promise<void> {
  return new Promise((resolve, reject) => {
    body.on('end', resolve);
    body.on('error', reject);
    body.resume();
  });
}
