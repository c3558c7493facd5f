import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { distributionKey } from '../src/ecosystems/distribution-key.ts';
import { ReportService } from '../src/matcher/report-service.ts';
import { createKnex } from '../src/store/database.ts';
import { migrateLatest } from '../src/store/migrations.ts';
import { benchDatabase, percentile } from './bench-database.ts';
import type { Bench, BenchContext } from './figure.ts';
import { workload, type WorkloadMix } from './match-workload.ts';

const TABLE_ROWS = 1_000_000;
const COLD_RUNS = 30;
const WARM_RUNS = 300;

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/**
 * The report of one indexed image of 500 packages (the matcher bench's image: Debian bookworm
 * binaries from 200 sources, npm, PyPI and Go modules) against a `vulnerabilities` table of at
 * least 1,000,000 rows: the image's own candidate records, the same Debian sources in three other
 * releases, and generated Debian, Ubuntu, Alpine, Red Hat and OSV rows for other packages. Run
 * for the `typical` advisory mix (the figures the targets apply to) and the `stress` mix (see
 * match-workload.ts). Cold: computed (packages and candidates read, matched, built, stored), with
 * the table in the server's cache as it is in service; warm: the cached report as the API reads
 * it. References, in the same run: the bare SELECT of the same candidate rows (cold's floor), and
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
    const { manifestId, rows } = await load(knex, mix);
    ctx.log(`${mix}: ${rows} vulnerability rows loaded in ${((performance.now() - started) / 1000).toFixed(1)} s (${db.engine})`);
    const reports = new ReportService({ knex });

    const first = await time(() => reports.refresh(manifestId));
    const facts = await reports.facts(manifestId);
    const cold: number[] = [];
    let findings = 0;
    let bytes = 0;
    for (let i = 0; i < COLD_RUNS; i++) {
      cold.push(
        await time(async () => {
          const { report } = await reports.refresh(manifestId);
          findings = report.findings.length;
        }),
      );
    }
    cold.sort((a, b) => a - b);
    bytes = ((await knex('reports').where({ manifest_id: manifestId }).first(knex.raw('length(report) as n'))) as { n: number }).n;

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
    const note = `${mix} mix: 500 packages, ${fetched} candidate rows of ${rows} in the table, ${findings} findings, report ${(bytes / 1e6).toFixed(1)} MB; ${db.engine} PostgreSQL`;
    ctx.emit({
      name: `report.cold${suffix}_ms`,
      value: percentile(cold, 50),
      unit: 'ms',
      p50: percentile(cold, 50),
      p99: percentile(cold, 99),
      first_ms: round(first),
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

/** Writes the image (layer, distribution, packages) and the vulnerability table; returns the manifest id and the row count. */
async function load(knex: Knex, mix: WorkloadMix): Promise<{ manifestId: number; rows: number }> {
  const { packages, records, distribution } = workload(mix);
  const [dist] = await knex('distributions')
    .insert({ key: distributionKey(distribution), did: distribution.did, version_id: distribution.versionId, version_codename: distribution.versionCodename, pretty_name: 'Debian GNU/Linux 12 (bookworm)' })
    .returning('id');
  const [layer] = await knex('layers').insert({ digest: digestOf('report-bench-layer'), media_type: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 1 }).returning('id');
  const [manifest] = await knex('manifests')
    .insert({ digest: digestOf('report-bench-image'), media_type: 'application/vnd.oci.image.manifest.v1+json', kind: 'image', status: 'done', distribution_id: dist.id, platform_os: 'linux', platform_arch: 'amd64' })
    .returning('id');
  await knex('manifest_layers').insert({ manifest_id: manifest.id, position: 0, layer_id: layer.id });
  const packageRows = packages.map((p, i) => ({
    key: `${p.ecosystem}:${p.name}@${p.version}#${i}`,
    ecosystem: p.ecosystem,
    name: p.name,
    version: p.version,
    source_name: p.sourceName ?? null,
    source_version: p.sourceVersion ?? null,
    arch: p.arch ?? null,
    vendor: p.vendor ?? null,
  }));
  const ids = await knex('packages').insert(packageRows).returning('id');
  await knex('manifest_packages').insert(
    packages.map((p, i) => ({ manifest_id: manifest.id, package_id: ids[i]!.id, path: p.path, introduced_in: layer.id, distribution_id: p.ecosystem === 'dpkg' ? dist.id : null })),
  );

  const rows = records.map((r, i) => ({
    updater: r.updater,
    vkey: `${r.name}/${r.packageName}/${i}`,
    content_hash: String(i),
    name: r.name,
    aliases: r.aliases,
    ecosystem: r.ecosystem,
    distribution: r.distribution,
    package_name: r.packageName,
    package_kind: r.packageKind,
    affected_range: r.affectedRange === null ? null : JSON.stringify(r.affectedRange),
    fixed_version: r.fixedVersion,
    state: r.state,
    state_reason: r.stateReason,
    vendor_severity: r.vendorSeverity,
    normalized_severity: r.normalizedSeverity,
    severity_source: r.severitySource,
    links: r.links,
    description: `${r.name} in ${r.packageName}: a generated description of realistic length for the vulnerability, as feeds carry one.`,
  }));
  for (let i = 0; i < rows.length; i += 1000) await knex('vulnerabilities').insert(rows.slice(i, i + 1000));
  // The same Debian sources in other releases (their rows must not be fetched for bookworm).
  for (const release of ['bullseye', 'trixie', 'sid']) {
    await knex.raw(
      `insert into vulnerabilities (updater, vkey, content_hash, name, aliases, ecosystem, distribution, package_name, package_kind, fixed_version, state, state_reason, vendor_severity, normalized_severity, severity_source, links, description)
       select updater, vkey || '/' || ?, content_hash, name, aliases, ecosystem, 'debian:' || ?, package_name, package_kind, fixed_version, state, state_reason, vendor_severity, normalized_severity, severity_source, links, description
         from vulnerabilities where distribution = 'debian:bookworm'`,
      [release, release],
    );
  }
  const remaining = TABLE_ROWS - (await countRows(knex));
  // Other packages: distro advisories keyed by source or binary, OSV records with ranges.
  const kinds = [
    ['debian', 'dpkg', `'debian:' || (array['bullseye','bookworm','trixie','sid'])[1 + g % 4]`, 'source'],
    ['ubuntu', 'dpkg', `'ubuntu:' || (array['focal','jammy','noble'])[1 + g % 3]`, 'source'],
    ['alpine', 'apk', `'alpine:3.' || (16 + g % 5)`, 'source'],
    ['rhel-vex', 'rpm', `'rhel:' || (8 + g % 2)`, 'binary'],
    ['osv-npm', 'npm', 'null', 'binary'],
    ['osv-pypi', 'pypi', 'null', 'binary'],
  ] as const;
  const per = Math.ceil(remaining / kinds.length);
  for (const [updater, ecosystem, dist, kind] of kinds) {
    const range = ecosystem === 'npm' || ecosystem === 'pypi' ? `jsonb_build_object('events', jsonb_build_array(jsonb_build_object('introduced', '0'), jsonb_build_object('fixed', (g % 9) || '.' || (g % 17) || '.' || (g % 5))))` : 'null';
    await knex.raw(
      `insert into vulnerabilities (updater, vkey, content_hash, name, ecosystem, distribution, package_name, package_kind, affected_range, fixed_version, state, vendor_severity, normalized_severity, severity_source, links, description)
       select ?, 'gen/' || g, md5(g::text), 'CVE-20' || (10 + g % 16) || '-' || (10000 + g % 90000), ?, ${dist}, 'pkg' || ? || (g % 30000), ?, ${range},
              case when g % 4 = 0 then null else (g % 7) || '.' || (g % 13) || '-' || (g % 5) end,
              case when g % 4 = 0 then 'not_fixed' else 'fixed' end,
              (array['low','medium','high','unimportant'])[1 + g % 4], (array['Low','Medium','High','Negligible'])[1 + g % 4], 'vendor',
              array['https://security-tracker.debian.org/tracker/CVE-2020-' || g], 'A generated advisory for a package the image does not have.'
         from generate_series(1, ?) g`,
      [updater, ecosystem, updater, kind, per],
    );
  }
  await knex.raw('analyze vulnerabilities');
  return { manifestId: Number(manifest.id), rows: await countRows(knex) };
}

async function countRows(knex: Knex): Promise<number> {
  const row = await knex('vulnerabilities').count<{ count: string }[]>('* as count').first();
  return Number(row?.count ?? 0);
}
