import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { Knex } from 'knex';

/** The folder holding the knex migrations, named `YYYYMMDDHHMMSS_what.ts`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Reads `migrations/` (TypeScript files run as-is by Node) in name order. */
export class FolderMigrationSource implements Knex.MigrationSource<string> {
  private readonly dir: string;

  constructor(dir = MIGRATIONS_DIR) {
    this.dir = dir;
  }

  async getMigrations(): Promise<string[]> {
    return migrationNames(this.dir);
  }

  getMigrationName(migration: string): string {
    return migration;
  }

  async getMigration(migration: string): Promise<MigrationModule> {
    return (await import(pathToFileURL(path.join(this.dir, migration)).href)) as MigrationModule;
  }
}

/** Migration file names in the order they apply. */
export function migrationNames(dir = MIGRATIONS_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => /^\d{14}_[a-z0-9_]+\.ts$/.test(name))
    .sort();
}

/** Knex migrator settings shared by `lookout migrate`, `serve` and the tests. */
export function migratorConfig(): Knex.MigratorConfig {
  return { migrationSource: new FolderMigrationSource(), tableName: 'knex_migrations' };
}

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest(migratorConfig())) as [number, string[]];
  return applied;
}

/** Undoes every applied migration, newest first; returns the names undone. */
export async function migrateRollbackAll(knex: Knex): Promise<string[]> {
  const [, undone] = (await knex.migrate.rollback(migratorConfig(), true)) as [number, string[]];
  return undone;
}
