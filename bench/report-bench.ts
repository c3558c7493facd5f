import type { ImageReport } from '../src/matcher/image-report.ts';
import { ReportService } from '../src/matcher/report-service.ts';
import { createKnex } from '../src/store/database.ts';
import { migrateLatest } from '../src/store/migrations.ts';
import { benchDatabase, percentile } from './bench-database.ts';
import type { Bench, BenchContext } from './figure.ts';
import type { WorkloadMix } from './match-workload.ts';
import { loadReportImage } from './report-fixture.ts';

const TABLE_ROWS = 1_000_000;
const WARMUP_RUNS = 10;
const COLD_RUNS = 60;
const WARM_RUNS = 300;

/**
 * The report of one indexed image of 500 packages (the matcher bench's image: Debian bookworm
 * binaries from 200 sources, npm, PyPI and Go modules) against a `vulnerabilities` table of at
 * least 1,000,000 rows: the image's own candidate records, the same Debian sources in three other
 * releases, and generated Debian, Ubuntu, Alpine, Red Hat and OSV rows for other packages. Run
 * for the `typical` advisory mix (the figures the targets apply to) and the `stress` mix (see
 * match-workload.ts). Cold: computed (packages and candidates read, matched, built, stored), with
 * the table in the server's cache and the process's code optimized (after unmeasured computations)
 * as they are in service, the first computation of a fresh process given beside it (`first_ms`);
 * warm: the cached report as the API reads it. References, in the same run: the bare SELECT of the same candidate rows (cold's floor), and
 * the bare lookup of the stored ETag (warm's floor).
 */
const bench: Bench = async (ctx) => {
  for (const mix of ['typical', 'stress'] as const) await measure(ctx, mix);
};

async function measure(ctx: BenchContext, mix: WorkloadMix): Promise<void> {
  const db = await benchDatabase(ctx, 'report');
  const knex = createKnex(db.url, { poolMax: 4 });
  try {
    await migrateLatest(knex);
    const started = performance.now();
    const { manifestId, rows } = await loadReportImage(knex, mix, { tableRows: TABLE_ROWS });
    ctx.log(`${mix}: ${rows} vulnerability rows loaded in ${((performance.now() - started) / 1000).toFixed(1)} s (${db.engine})`);
    const reports = new ReportService({ knex });

    const first = await time(() => reports.refresh(manifestId));
    // A service computes reports all day: measured after the code has been optimized, as it runs there.
    for (let i = 0; i < WARMUP_RUNS; i++) await reports.refresh(manifestId);
    const facts = await reports.facts(manifestId);
    const cold: number[] = [];
    let last: ImageReport | null = null;
    for (let i = 0; i < COLD_RUNS; i++) {
      cold.push(
        await time(async () => {
          last = (await reports.refresh(manifestId)).report;
        }),
      );
    }
    cold.sort((a, b) => a - b);
    const findings = last!.findings.length;
    const bytes = Buffer.byteLength(JSON.stringify(last));
    const { stored } = (await knex('reports').where({ manifest_id: manifestId }).first(knex.raw('octet_length(report_zstd) as stored'))) as { stored: number };

    // Cold's floor: the candidate rows alone, fetched with the same lookups.
    const names = [...new Set(facts.packages.filter((p) => p.ecosystem === 'dpkg').flatMap((p) => [p.name, p.sourceName ?? p.name]))];
    const langNames = facts.packages.filter((p) => p.ecosystem !== 'dpkg').map((p) => p.name);
    const bare: number[] = [];
    let fetched = 0;
    for (let i = 0; i < COLD_RUNS; i++) {
      bare.push(
        await time(async () => {
          const a = await knex.raw(`select * from vulnerabilities where ecosystem = 'dpkg' and distribution = 'debian:bookworm' and package_name = any(?)`, [names]);
          const b = await knex.raw(`select * from vulnerabilities where ecosystem in ('npm', 'pypi', 'go') and distribution is null and package_name = any(?)`, [langNames]);
          fetched = a.rows.length + b.rows.length;
        }),
      );
    }
    bare.sort((a, b) => a - b);

    // A fresh service (an API process that has not read this report yet), then repeated polls.
    const coldCache = await time(() => new ReportService({ knex }).report(manifestId));
    const warm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) warm.push(await time(() => reports.report(manifestId)));
    warm.sort((a, b) => a - b);
    const lookup: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) lookup.push(await time(() => knex('reports').where({ manifest_id: manifestId }).first('etag')));
    lookup.sort((a, b) => a - b);

    const suffix = mix === 'typical' ? '' : '_stress';
    const note = `${mix} mix: 500 packages, ${fetched} candidate rows of ${rows} in the table, ${findings} findings, report ${(bytes / 1e6).toFixed(1)} MB (${Math.round(stored / 1e3)} kB stored); ${db.engine} PostgreSQL`;
    ctx.emit({
      name: `report.cold${suffix}_ms`,
      value: percentile(cold, 50),
      unit: 'ms',
      p50: percentile(cold, 50),
      p99: percentile(cold, 99),
      first_ms: round(first),
      warmup_runs: WARMUP_RUNS,
      runs: COLD_RUNS,
      ...(mix === 'typical' ? { target: 'p50 <= 50 ms' } : {}),
      reference: { name: 'bare SELECT of the same candidate rows, p50', value: percentile(bare, 50), unit: 'ms' },
      note: `computed, stored and cached; ${note}`,
    });
    ctx.emit({
      name: `report.warm${suffix}_ms`,
      value: percentile(warm, 50),
      unit: 'ms',
      p50: percentile(warm, 50),
      p99: percentile(warm, 99),
      first_read_ms: round(coldCache),
      runs: WARM_RUNS,
      ...(mix === 'typical' ? { target: 'p50 <= 5 ms' } : {}),
      reference: { name: 'bare SELECT of the stored ETag, p50', value: percentile(lookup, 50), unit: 'ms' },
      note: `the cached report (first_read_ms: a process that has not read it yet parses the stored JSON); ${note}`,
    });
  } finally {
    await knex.destroy();
    await db.drop();
  }
}
export default bench;

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

