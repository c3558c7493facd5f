import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { distributionKey } from '../src/ecosystems/distribution-key.ts';
import { workload, type WorkloadMix } from './match-workload.ts';

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** Where the loaded image is pushed: registry `bench`, this repository and tag. */
export const BENCH_LOCATION = { registry: 'bench', repository: 'bench/app', tag: 'v1' } as const;

/**
 * Writes one indexed image of the matcher bench's 500 packages (layer, distribution, packages,
 * `bench/app:v1` in registry `bench`) and its candidate records; with `tableRows`, pads the
 * vulnerability table to that many rows (the same Debian sources in other releases, then
 * generated Debian, Ubuntu, Alpine, Red Hat and OSV rows for other packages) and loads NVD, EPSS
 * and KEV data for its CVE ids and more.
 */
export async function loadReportImage(knex: Knex, mix: WorkloadMix, options: { tableRows?: number } = {}): Promise<{ manifestId: number; digest: string; rows: number }> {
  const { packages, records, distribution } = workload(mix);
  const [dist] = await knex('distributions')
    .insert({ key: distributionKey(distribution), did: distribution.did, version_id: distribution.versionId, version_codename: distribution.versionCodename, pretty_name: 'Debian GNU/Linux 12 (bookworm)' })
    .returning('id');
  const [layer] = await knex('layers').insert({ digest: digestOf('report-bench-layer'), media_type: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 1 }).returning('id');
  const [manifest] = await knex('manifests')
    .insert({ digest: digestOf('report-bench-image'), media_type: 'application/vnd.oci.image.manifest.v1+json', kind: 'image', status: 'done', distribution_id: dist.id, platform_os: 'linux', platform_arch: 'amd64' })
    .returning('id');
  await knex('manifest_layers').insert({ manifest_id: manifest.id, position: 0, layer_id: layer.id });
  const [registry] = await knex('registries').insert({ name: BENCH_LOCATION.registry, url: 'http://127.0.0.1:5000' }).returning('id');
  const [repository] = await knex('repositories').insert({ registry_id: registry.id, name: BENCH_LOCATION.repository }).returning('id');
  await knex('repository_manifests').insert({ repository_id: repository.id, manifest_id: manifest.id });
  const [tag] = await knex('tags').insert({ repository_id: repository.id, name: BENCH_LOCATION.tag, manifest_id: manifest.id }).returning('id');
  await knex('tag_history').insert({ tag_id: tag.id, manifest_id: manifest.id });
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
  if (options.tableRows === undefined) return { manifestId: Number(manifest.id), digest: digestOf('report-bench-image'), rows: await countRows(knex) };
  // The same Debian sources in other releases (their rows must not be fetched for bookworm).
  for (const release of ['bullseye', 'trixie', 'sid']) {
    await knex.raw(
      `insert into vulnerabilities (updater, vkey, content_hash, name, aliases, ecosystem, distribution, package_name, package_kind, fixed_version, state, state_reason, vendor_severity, normalized_severity, severity_source, links, description)
       select updater, vkey || '/' || ?, content_hash, name, aliases, ecosystem, 'debian:' || ?, package_name, package_kind, fixed_version, state, state_reason, vendor_severity, normalized_severity, severity_source, links, description
         from vulnerabilities where distribution = 'debian:bookworm'`,
      [release, release],
    );
  }
  const remaining = options.tableRows - (await countRows(knex));
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
  await loadEnrichments(knex);
  // Tables that have been in service are vacuumed (hint bits set, visibility map current) and on
  // disk: without this, autovacuum and the checkpointer work through the fresh rows while the
  // report is measured (and every commit waits behind their writes).
  await knex.raw('vacuum analyze vulnerabilities, enrichments');
  await knex.raw('checkpoint');
  return { manifestId: Number(manifest.id), digest: digestOf('report-bench-image'), rows: await countRows(knex) };
}


/** CVE ids beyond the table's that NVD and EPSS know of (NVD lists some 300,000 CVEs). */
const OTHER_CVES = 200_000;

/**
 * NVD data (a CVSS 3.1 score, an English description, a CWE), an EPSS score for every CVE id of
 * the table and {@link OTHER_CVES} more, and a KEV entry for one in 200, as the enrichment feeds
 * give them.
 */
async function loadEnrichments(knex: Knex): Promise<void> {
  const ids = `select id, abs(hashtext(id)) as h from (
      select distinct name as id from vulnerabilities where name like 'CVE-%'
      union select 'CVE-2024-' || (100000 + g) from generate_series(1, ${OTHER_CVES}) g) a`;
  await knex.raw(`
    insert into enrichments (kind, vuln_name, data)
    select 'nvd', id, jsonb_build_object(
             'cvss', jsonb_build_array(jsonb_build_object('version', '3.1', 'vector', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H',
                                                          'score', round((1 + (h % 91) / 10.0)::numeric, 1), 'source', 'nvd@nist.gov')),
             'description', 'A generated NVD description of ' || id || ', as long as NVD''s typically are: the component and the flaw, '
                            || 'who can exploit it and how, and what they gain, in a few sentences the report shows when no feed record has one.',
             'published', '2020-01-01T00:00:00.000Z',
             'cwes', jsonb_build_array('CWE-' || (20 + h % 900)))
      from (${ids}) x
    union all
    select 'epss', id, jsonb_build_object('score', (h % 1000) / 1000.0, 'percentile', (h % 997) / 997.0, 'date', '2026-11-01') from (${ids}) x
    union all
    select 'kev', id, jsonb_build_object('dateAdded', '2024-01-02', 'dueDate', '2024-01-23', 'knownRansomware', h % 3 = 0, 'name', 'A generated KEV entry')
      from (${ids}) x where h % 200 = 0`);
}

async function countRows(knex: Knex): Promise<number> {
  const row = await knex('vulnerabilities').count<{ count: string }[]>('* as count').first();
  return Number(row?.count ?? 0);
}
