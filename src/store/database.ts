import knexFactory, { type Knex } from 'knex';
import type { Config } from '../config/config-schema.ts';
import type { Logger } from '../log/create-logger.ts';
import { redactUrl } from '../log/redact.ts';
import { EmbeddedPostgres } from './embedded-postgres.ts';
import { TYPE_PARSERS } from './type-parsers.ts';

/** Which engine serves the database: a configured server, or the embedded one Lookout runs. */
export type Engine = 'server' | 'embedded';

/** An open database: the knex pool, the URL it uses, and how to close it (and the embedded server). */
export interface Database {
  readonly knex: Knex;
  readonly engine: Engine;
  /** The connection URL (the embedded server's is a Unix-socket URL); it may hold a password. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Opens the configured database: `database.url` when set, otherwise the embedded PostgreSQL under
 * `dataDir` (started here, stopped by `close()`).
 */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  let embedded: EmbeddedPostgres | null = null;
  let url = config.database.url;
  if (url === '') {
    embedded = await EmbeddedPostgres.start({
      dataDir: config.dataDir,
      osUser: config.embedded.osUser,
      startTimeoutMs: config.embedded.startTimeoutSeconds * 1000,
      logger,
    });
    url = embedded.connectionString;
  }
  const knex = createKnex(url, { poolMax: config.database.poolMax, statementTimeoutSeconds: config.database.statementTimeoutSeconds, logger });
  logger.info({ engine: embedded ? 'embedded' : 'server', url: redactUrl(url) }, 'database open');
  return {
    knex,
    engine: embedded ? 'embedded' : 'server',
    url,
    async close() {
      await knex.destroy();
      await embedded?.stop();
    },
  };
}

export interface KnexOptions {
  poolMax?: number;
  statementTimeoutSeconds?: number;
  /** Where knex's own warnings go (instead of the console). */
  logger?: Logger;
}

/** A knex pool on `url`; every connection gets the statement timeout and UTC. */
export function createKnex(url: string, options: KnexOptions = {}): Knex {
  const { poolMax = 10, statementTimeoutSeconds = 0, logger } = options;
  return knexFactory({
    log: {
      warn: (message: unknown) => logger?.warn({ detail: String(message) }, 'database warning'),
      error: (message: unknown) => logger?.error({ detail: String(message) }, 'database error'),
      deprecate: (message: unknown) => logger?.debug({ detail: String(message) }, 'database deprecation'),
      debug: (message: unknown) => logger?.trace({ detail: String(message) }, 'database debug'),
    },
    client: 'pg',
    connection: {
      connectionString: url,
      application_name: 'lookout',
      types: TYPE_PARSERS,
      ...(statementTimeoutSeconds > 0 ? { statement_timeout: statementTimeoutSeconds * 1000 } : {}),
    },
    pool: {
      min: 0,
      max: poolMax,
      afterCreate(conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.query("set time zone 'UTC'", (err) => done(err, conn));
      },
    },
    acquireConnectionTimeout: 30_000,
  });
}
