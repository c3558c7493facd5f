/** NDB file magic `RpmP`, little-endian at offset 0. */
export const NDB_MAGIC = 0x506d7052;
const SLOT_MAGIC = 0x746f6c53; // 'Slot'
const BLOB_MAGIC = 0x53626c42; // 'BlbS'
const SLOT_PAGE = 4096;
const SLOT_SIZE = 16;
const BLOCK = 16;
const HEADER_SLOTS = 2; // the 32-byte file header takes the first two slot positions

/** Whether `db` starts like rpm's NDB `Packages.db`. */
export function isNdb(db: Uint8Array): boolean {
  return db.length >= 32 && new DataView(db.buffer, db.byteOffset, db.byteLength).getUint32(0, true) === NDB_MAGIC;
}

/**
 * The package header blobs of an NDB database (rpm ≥ 4.16's native `Packages.db`, SUSE), read
 * natively: a 32-byte header (magic `RpmP`, version 0, generation, slot page count), slot pages of
 * 16-byte slots (`Slot`, package index, block offset, block count; index 0 = free), and per
 * package a blob at `offset × 16`: `BlbS`, package index, checksum, length, then the header.
 * Yields blobs in slot order, as views into `db`.
 *
 * Hostile input: the slot page count, every slot's offset and length and every blob header are
 * checked against the file; a bad slot or blob is skipped with a problem appended to `problems`
 * (at most a few, then a count). The blob checksum is not verified.
 */
export function* readNdbBlobs(db: Uint8Array, problems: string[]): Generator<Uint8Array> {
  if (!isNdb(db)) {
    problems.push('not an NDB package database');
    return;
  }
  const view = new DataView(db.buffer, db.byteOffset, db.byteLength);
  const version = view.getUint32(4, true);
  if (version !== 0) {
    problems.push(`NDB version ${version} is not supported`);
    return;
  }
  let slotPages = view.getUint32(12, true);
  if (slotPages === 0) {
    problems.push('NDB has no slot pages');
    return;
  }
  if (slotPages * SLOT_PAGE > db.length) {
    problems.push(`NDB claims ${slotPages} slot pages but the file holds ${Math.floor(db.length / SLOT_PAGE)}; reading those`);
    slotPages = Math.floor(db.length / SLOT_PAGE);
  }
  let bad = 0;
  const problem = (message: string) => {
    if (bad++ < 5) problems.push(message);
  };
  const slots = slotPages * (SLOT_PAGE / SLOT_SIZE);
  for (let s = HEADER_SLOTS; s < slots; s++) {
    const at = s * SLOT_SIZE;
    if (view.getUint32(at, true) !== SLOT_MAGIC) {
      problem(`NDB slot ${s} has a bad magic`);
      continue;
    }
    const pkgIndex = view.getUint32(at + 4, true);
    if (pkgIndex === 0) continue;
    const blockOffset = view.getUint32(at + 8, true);
    const blockCount = view.getUint32(at + 12, true);
    const start = blockOffset * BLOCK;
    if (blockOffset === 0 || start + 16 > db.length || blockCount * BLOCK > db.length - start) {
      problem(`NDB slot ${s} (package ${pkgIndex}) points outside the file`);
      continue;
    }
    if (view.getUint32(start, true) !== BLOB_MAGIC || view.getUint32(start + 4, true) !== pkgIndex) {
      problem(`NDB blob of package ${pkgIndex} has a bad header`);
      continue;
    }
    const length = view.getUint32(start + 12, true);
    if (length + 16 > blockCount * BLOCK || start + 16 + length > db.length) {
      problem(`NDB blob of package ${pkgIndex} is longer than its blocks`);
      continue;
    }
    yield db.subarray(start + 16, start + 16 + length);
  }
  if (bad > 5) problems.push(`${bad - 5} more NDB problems`);
}
