import type { Knex } from 'knex';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';

/*
 * Cached reports are stored zstd-compressed by Lookout (`report_zstd`, a zstd frame of the UTF-8
 * JSON text) instead of as text the server compresses: a big image's report is megabytes of JSON
 * that compress about twenty-fold, so the write sends tens of kilobytes instead of megabytes and
 * the server neither validates nor compresses them. The column is stored EXTERNAL: the server
 * does not try to compress what is compressed. Existing reports are converted in batches, both
 * ways.
 */
const BATCH = 100;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table reports add column report_zstd bytea;
    alter table reports alter column report_zstd set storage external;
  `);
  await convert(knex, 'report', 'report_zstd', (text: string) => zstdCompressSync(Buffer.from(text, 'utf8')));
  await knex.raw(`
    alter table reports drop column report;
    alter table reports alter column report_zstd set not null;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table reports add column report text;
    alter table reports alter column report set storage extended;
  `);
  await knex.raw(`
    do $$ begin
      alter table reports alter column report set compression lz4;
    exception when feature_not_supported then null;
    end $$;
  `);
  await convert(knex, 'report_zstd', 'report', (zstd: Buffer) => zstdDecompressSync(zstd).toString('utf8'));
  await knex.raw(`
    alter table reports drop column report_zstd;
    alter table reports alter column report set not null;
  `);
}

/** Rewrites every report from column `from` into column `to`, by manifest id, `BATCH` rows at a time. */
async function convert<From, To>(knex: Knex, from: string, to: string, map: (value: From) => To): Promise<void> {
  let after = 0;
  for (;;) {
    const rows: { manifest_id: string; value: From }[] = await knex('reports')
      .where('manifest_id', '>', after)
      .orderBy('manifest_id')
      .limit(BATCH)
      .select('manifest_id', `${from} as value`);
    if (rows.length === 0) return;
    for (const row of rows) await knex('reports').where({ manifest_id: row.manifest_id }).update({ [to]: map(row.value) });
    after = Number(rows[rows.length - 1]!.manifest_id);
  }
}
