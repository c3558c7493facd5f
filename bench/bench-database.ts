import { chmod, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { createLogger } from '../src/log/create-logger.ts';
import { EmbeddedPostgres } from '../src/store/embedded-postgres.ts';
import type { BenchContext } from './figure.ts';

/** A scratch database for one bench: a new database on the configured server, else a new embedded server. */
export async function benchDatabase(ctx: BenchContext, label: string): Promise<{ url: string; engine: 'server' | 'embedded'; drop(): Promise<void> }> {
  if (ctx.serverUrl) {
    const name = `lookout_${label}_bench_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: ctx.serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(ctx.serverUrl);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      engine: 'server',
      async drop() {
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      },
    };
  }
  // A data directory of its own: a bench that asks twice gets two empty databases.
  const dataDir = await mkdtemp(path.join(ctx.tmpDir, `${label}-`));
  await chmod(dataDir, 0o755); // an embedded server started as root runs as another user
  const embedded = await EmbeddedPostgres.start({ dataDir, osUser: 'postgres', startTimeoutMs: 60_000, logger: createLogger('silent') });
  return {
    url: embedded.connectionString,
    engine: 'embedded',
    async drop() {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The p-th percentile (0–100) of ascending `sorted`, rounded to 0.01. */
export function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i]! * 100) / 100;
}
