/** Berkeley DB hash database magic (`DB_HASHMAGIC`), at offset 12 of the metadata page. */
export const BDB_HASH_MAGIC = 0x061561;

const PAGE_HEADER = 26;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;

/** Whether `db` starts like a Berkeley DB hash file (either byte order). */
export function isBdbHash(db: Uint8Array): boolean {
  if (db.length < 512) return false;
  const view = new DataView(db.buffer, db.byteOffset, db.byteLength);
  return view.getUint32(12, true) === BDB_HASH_MAGIC || view.getUint32(12, false) === BDB_HASH_MAGIC;
}

/**
 * The data items of a Berkeley DB hash database (rpm's `Packages` before rpm 4.16), read natively:
 * the metadata page gives byte order (from the magic), page size and last page; every hash page
 * (`P_HASH`, `P_HASH_UNSORTED`) holds key/data pairs (the record under key 0, rpm's instance counter, is passed
 * over), and each data item is either inline
 * (`H_KEYDATA`) or the head of an overflow chain (`H_OFFPAGE`: first page and total length),
 * followed page by page. Yields one value at a time, in page order.
 *
 * Hostile input: page numbers, item offsets and chain lengths are all checked against the file; a
 * chain that loops, leaves the file, or is shorter than it claims is dropped; an overflow page is
 * never read for two items (so a hostile file cannot multiply its size); the bytes produced never exceed twice the file's size. Problems are
 * appended to `problems` (at most a few, then a count) and reading goes on with the next item.
 * Encrypted databases and files that are not hash databases yield nothing and one problem.
 */
export function* readBdbHashValues(db: Uint8Array, problems: string[]): Generator<Uint8Array> {
  if (!isBdbHash(db)) {
    problems.push('not a Berkeley DB hash database');
    return;
  }
  const view = new DataView(db.buffer, db.byteOffset, db.byteLength);
  const le = view.getUint32(12, true) === BDB_HASH_MAGIC;
  const u32 = (at: number) => view.getUint32(at, le);
  const u16 = (at: number) => view.getUint16(at, le);

  const pageSize = u32(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    problems.push(`Berkeley DB page size ${pageSize} is not a power of two between 512 and 65536`);
    return;
  }
  if (db[24] !== 0) {
    problems.push('Berkeley DB database is encrypted');
    return;
  }
  if (db[25] !== P_HASHMETA) {
    problems.push(`Berkeley DB metadata page has type ${db[25]}, not hash metadata`);
    return;
  }
  const pagesInFile = Math.floor(db.length / pageSize);
  let lastPage = u32(32);
  if (lastPage >= pagesInFile) {
    problems.push(`Berkeley DB says its last page is ${lastPage} but the file holds ${pagesInFile} pages; reading those`);
    lastPage = pagesInFile - 1;
  }

  let bad = 0;
  const problem = (message: string) => {
    if (bad++ < 5) problems.push(message);
  };
  // Each overflow page belongs to one chain; a page met twice means a loop or a shared chain.
  const used = new Uint32Array(lastPage + 1);
  let chain = 0;
  let produced = 0;
  const producedLimit = 2 * db.length;

  for (let page = 1; page <= lastPage; page++) {
    const base = page * pageSize;
    const type = db[base + 25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    const entries = u16(base + 20);
    if (PAGE_HEADER + entries * 2 > pageSize) {
      problem(`hash page ${page} claims ${entries} entries, more than fit`);
      continue;
    }
    // Entries come in key/data pairs; the data item is the odd one.
    for (let i = 1; i < entries; i += 2) {
      const offset = u16(base + PAGE_HEADER + i * 2);
      const previous = u16(base + PAGE_HEADER + (i - 1) * 2);
      if (offset < PAGE_HEADER + entries * 2 || offset >= pageSize || previous <= offset || previous > pageSize) {
        problem(`hash page ${page} item ${i} lies outside the page`);
        continue;
      }
      const itemType = db[base + offset];
      const before = i >= 2 ? u16(base + PAGE_HEADER + (i - 2) * 2) : pageSize;
      if (isRecordZero(db, base + previous, base + Math.min(before, pageSize))) continue;
      if (itemType === H_KEYDATA) {
        // An inline item runs up to the start of the item before it (items grow down from the page end).
        const value = db.subarray(base + offset + 1, base + previous);
        produced += value.length;
        yield value;
      } else if (itemType === H_OFFPAGE) {
        if (offset + 12 > pageSize) {
          problem(`hash page ${page} item ${i} is truncated`);
          continue;
        }
        const first = u32(base + offset + 4);
        const length = u32(base + offset + 8);
        if (produced + length > producedLimit) {
          problem('Berkeley DB values add up to more than twice the file size; stopped');
          return;
        }
        const value = overflowChain(db, first, length, pageSize, lastPage, used, ++chain, u32, u16);
        if (typeof value === 'string') {
          problem(`overflow chain at page ${first}: ${value}`);
          continue;
        }
        produced += value.length;
        yield value;
      }
      // H_DUPLICATE / H_OFFDUP items do not occur in rpm databases; they are not package headers.
    }
  }
  if (bad > 5) problems.push(`${bad - 5} more Berkeley DB problems`);
}

/**
 * rpm keeps its next instance number under key 0 (a 4-byte zero key); that record is no package.
 * `start`..`end` is the key item: its type byte, then the key.
 */
function isRecordZero(db: Uint8Array, start: number, end: number): boolean {
  if (end - start !== 5 || db[start] !== H_KEYDATA) return false;
  return db[start + 1] === 0 && db[start + 2] === 0 && db[start + 3] === 0 && db[start + 4] === 0;
}

/** Concatenates an overflow chain of `length` bytes, or says why it cannot. */
function overflowChain(
  db: Uint8Array,
  first: number,
  length: number,
  pageSize: number,
  lastPage: number,
  used: Uint32Array,
  chain: number,
  u32: (at: number) => number,
  u16: (at: number) => number,
): Uint8Array | string {
  if (length > (lastPage + 1) * pageSize) return `claims ${length} bytes, more than the file holds`;
  const out = new Uint8Array(length);
  let filled = 0;
  let page = first;
  while (filled < length) {
    if (page === 0 || page > lastPage) return `leaves the file at page ${page} after ${filled} of ${length} bytes`;
    if (used[page] === chain) return `loops back to page ${page}`;
    if (used[page] !== 0) return `page ${page} was already read for another item`;
    used[page] = chain;
    const base = page * pageSize;
    if (db[base + 25] !== P_OVERFLOW) return `page ${page} is not an overflow page`;
    const onPage = Math.min(u16(base + 22), pageSize - PAGE_HEADER, length - filled);
    if (onPage === 0) return `page ${page} holds no data`;
    out.set(db.subarray(base + PAGE_HEADER, base + PAGE_HEADER + onPage), filled);
    filled += onPage;
    page = u32(base + 16);
  }
  return out;
}
