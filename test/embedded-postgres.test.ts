import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { runCli } from './helpers/cli.ts';
import { startServe, type ServeProcess } from './helpers/serve-process.ts';

async function dataDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-embedded-'));
  await chmod(dir, 0o755); // as root, the server's own user must be able to enter it
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function socketUrl(dir: string): string {
  return `postgresql://postgres@localhost/lookout?host=${encodeURIComponent(path.join(dir, 'run'))}`;
}

async function query<T extends pg.QueryResultRow>(dir: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: socketUrl(dir) });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

function serverPid(dir: string): number | null {
  const file = path.join(dir, 'postgres', 'postmaster.pid');
  return existsSync(file) ? Number.parseInt(readFileSync(file, 'utf8').split('\n')[0]!, 10) : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stop(serve: ServeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  serve.child.kill(signal);
  return serve.exited;
}

test('npm start on no database server: serves, keeps data across restarts, refuses a second process, recovers from kill -9', async (t) => {
  const dir = await dataDir(t);
  const env = { LOOKOUT_DATA_DIR: dir };
  const started = Date.now();
  const first = await startServe(env);
  t.teardown(() => {
    first.child.kill('SIGKILL');
  });
  const health = await fetch(`http://127.0.0.1:${first.port}/healthz`);
  t.is(health.status, 200);
  t.true(Date.now() - started < 30_000, 'healthy within 30 s of a cold start');
  t.is((await fetch(`http://127.0.0.1:${first.port}/readyz`)).status, 200);
  t.true(first.logs.some((l) => l.msg === 'embedded database initialised'));
  await query(dir, "insert into registries (name, url) values ('local', 'http://127.0.0.1:5000')");

  // A second process on the same data directory is refused with a clear message.
  const second = await runCli(['serve'], { ...env, PORT: '0', LOOKOUT_FEEDS__ENABLED: 'false' });
  t.is(second.status, 69);
  t.regex(second.stderr, new RegExp(`another Lookout process \\(pid ${first.child.pid}\\) is using the data directory`));

  // SIGTERM: graceful stop, the server and the lock are gone.
  const pgPid = serverPid(dir)!;
  t.is(await stop(first), 0);
  t.false(alive(pgPid), 'the embedded server stopped with Lookout');
  t.false(existsSync(path.join(dir, 'lookout.lock')));

  // Data survives a restart.
  const again = await startServe(env);
  t.teardown(() => {
    again.child.kill('SIGKILL');
  });
  t.deepEqual(await query(dir, 'select name from registries'), [{ name: 'local' }]);
  t.false(again.logs.some((l) => l.msg === 'embedded database initialised'), 'warm start reuses the cluster');

  // kill -9 leaves the server orphaned; the next start stops it and carries on.
  const orphan = serverPid(dir)!;
  t.is(await stop(again, 'SIGKILL'), null);
  t.true(alive(orphan), 'the server outlives a SIGKILLed Lookout');
  const recovered = await startServe(env);
  t.teardown(() => {
    recovered.child.kill('SIGKILL');
  });
  t.true(recovered.logs.some((l) => l.msg === 'embedded database orphan stopping' && l.pid === orphan));
  t.false(alive(orphan));
  t.is((await fetch(`http://127.0.0.1:${recovered.port}/healthz`)).status, 200);
  t.deepEqual(await query(dir, 'select name from registries'), [{ name: 'local' }]);
  t.is(await stop(recovered, 'SIGINT'), 0);
});

const asRoot = process.getuid?.() === 0;
(asRoot ? test : test.skip)(
  `a data directory the server user cannot enter gives a clear error${asRoot ? '' : ' (skipped: only as root does the server run as another user)'}`,
  async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-private-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // mkdtemp makes it 0700 root: the postgres user cannot enter it.
  const result = await runCli(['migrate'], { LOOKOUT_DATA_DIR: path.join(dir, 'data') });
  t.is(result.status, 69);
  t.regex(result.stderr, /lookout: embedded database: running as root: the embedded PostgreSQL runs as "postgres", who cannot enter/);
  },
);
