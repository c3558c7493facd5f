import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** Whether `db` starts like an SQLite 3 database. */
export function isSqlite(db: Uint8Array): boolean {
  return db.length >= 100 && Buffer.from(db.buffer, db.byteOffset, 16).equals(SQLITE_MAGIC);
}

/**
 * The package header blobs of an SQLite rpm database (`rpmdb.sqlite`, rpm ≥ 4.16: Fedora 33+,
 * RHEL 9, CBL-Mariner): `SELECT blob FROM Packages ORDER BY hnum`, one row at a time.
 *
 * The bytes are opened in memory with node:sqlite's `deserialize` on a copy whose header is
 * switched from WAL to rollback mode (an in-memory database cannot use WAL). When the layer also
 * carries a non-empty `rpmdb.sqlite-wal`, transactions may still sit in it: then both files are
 * written to a private temporary directory, opened there so SQLite replays the WAL, and the
 * directory is removed before returning. Only a table named `Packages` is read (never a view).
 * Never throws: a file SQLite calls corrupt, or one without a Packages table, yields what could be
 * read and appends a problem to `problems`.
 */
export function* readSqliteBlobs(db: Uint8Array, problems: string[], wal?: Uint8Array): Generator<Uint8Array> {
  if (!isSqlite(db)) {
    problems.push('not an SQLite database');
    return;
  }
  let tmp: string | null = null;
  let database: DatabaseSync | null = null;
  try {
    if (wal && wal.length > 0) {
      tmp = mkdtempSync(path.join(os.tmpdir(), 'lookout-rpmdb-'));
      const file = path.join(tmp, 'rpmdb.sqlite');
      writeFileSync(file, db, { mode: 0o600 });
      writeFileSync(`${file}-wal`, wal, { mode: 0o600 });
      database = new DatabaseSync(file);
    } else {
      const copy = Buffer.from(db);
      // File format versions 2 (WAL) → 1 (rollback journal): deserialized databases cannot use WAL.
      if (copy[18] === 2) copy[18] = 1;
      if (copy[19] === 2) copy[19] = 1;
      database = new DatabaseSync(':memory:');
      database.deserialize(copy);
    }
    database.enableDefensive?.(true);
    const table = database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'Packages'").get();
    if (!table) {
      problems.push('SQLite rpm database has no Packages table');
      return;
    }
    let blobless = 0;
    for (const row of database.prepare('SELECT blob FROM Packages ORDER BY hnum').iterate()) {
      const blob = (row as { blob?: unknown }).blob;
      if (blob instanceof Uint8Array) yield blob;
      else blobless++;
    }
    if (blobless > 0) problems.push(`${blobless} Packages row${blobless === 1 ? '' : 's'} hold no blob`);
  } catch (error) {
    problems.push(`SQLite rpm database could not be read: ${(error as Error).message}`);
  } finally {
    try {
      database?.close();
    } catch {
      // already closed or never opened
    }
    if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  }
}
