import type { Knex } from 'knex';
import type { JobDb } from '../jobs/job-queue.ts';

/**
 * Runs the job queue's SQL (`$1`-style placeholders) on a knex transaction, so a job is enqueued
 * atomically with the rows that caused it. Knex binds with `?`: literal question marks are escaped
 * and each `$n` becomes a `?` bound to the n-th value (repeats included).
 */
export function knexJobDb(trx: Knex.Transaction | Knex): JobDb {
  return {
    async executeSql(text: string, values: unknown[] = []) {
      const bindings: unknown[] = [];
      const sql = text.replaceAll('?', '\\?').replace(/\$(\d+)/g, (_m, n: string) => {
        bindings.push(values[Number(n) - 1]);
        return '?';
      });
      const result = await trx.raw(sql, bindings as Knex.RawBinding[]);
      return { rows: (result as { rows?: unknown[] }).rows ?? [] };
    },
  };
}
