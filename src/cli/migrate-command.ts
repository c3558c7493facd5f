import { loadConfig } from '../config/load-config.ts';
import { PgBossJobQueue } from '../jobs/pg-boss-job-queue.ts';
import { createLogger } from '../log/create-logger.ts';
import { openDatabase } from '../store/database.ts';
import { migrateLatest, migrateRollbackAll, migrationNames } from '../store/migrations.ts';
import { PgSystemStore } from '../store/system-store.ts';

interface MigrateFlags {
  rollback?: boolean;
  status?: boolean;
}

/** `lookout migrate [--status|--rollback]`. */
export async function migrateCommand(flags: MigrateFlags): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  const database = await openDatabase(config, logger);
  try {
    if (flags.status) {
      const applied = new Set(await new PgSystemStore(database.knex).appliedMigrations());
      for (const name of migrationNames()) process.stdout.write(`${applied.has(name) ? 'applied' : 'pending'}  ${name}\n`);
      return;
    }
    if (flags.rollback) {
      const undone = await migrateRollbackAll(database.knex);
      process.stdout.write(undone.length === 0 ? 'nothing to roll back\n' : undone.map((n) => `rolled back  ${n}\n`).join(''));
      return;
    }
    const applied = await migrateLatest(database.knex);
    await PgBossJobQueue.install(database.url, logger);
    process.stdout.write(applied.length === 0 ? 'already up to date\n' : applied.map((n) => `applied  ${n}\n`).join(''));
  } finally {
    await database.close();
  }
}
