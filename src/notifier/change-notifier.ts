import type { Knex } from 'knex';
import { severityFromCvss } from '../ecosystems/cvss/score-cvss-vector.ts';
import { SEVERITIES, type CvssScore, type Severity } from '../ecosystems/vulnerability-record.ts';
import type { Logger } from '../log/create-logger.ts';
import { checkRecord } from '../matcher/check-record.ts';
import type { ImageReport } from '../matcher/image-report.ts';
import type { Finding } from '../matcher/finding.ts';
import type { CandidateRecord, MatchPackage } from '../matcher/match-input.ts';
import { packageFromRow } from '../matcher/package-from-row.ts';
import { writeOutbox, type OutboxEntry } from '../store/notification-store.ts';
import { liveSubscriptions, type Subscription } from '../store/subscription-store.ts';
import { imageLinks, type NotificationEvent, type NotificationPayload } from './notification-payload.ts';
import { fanOut } from './fan-out.ts';
import { repositoryMatcher } from './repository-matcher.ts';

/** What a diff row keeps of one side of a change (see the vulnerability store's `brief`). */
interface Brief {
  name: string;
  aliases: string[] | null;
  ecosystem: string;
  distribution: string | null;
  repository: string | null;
  module: string | null;
  package: string;
  kind: 'binary' | 'source';
  arch: string | null;
  fixed_version: string | null;
  state: CandidateRecord['state'];
  state_reason: string | null;
  severity: Severity;
  vendor_severity: string | null;
  range: CandidateRecord['affectedRange'];
  links: string[] | null;
}

interface DiffRow {
  vkey: string;
  change: 'added' | 'removed' | 'changed';
  before: Brief | null;
  after: Brief | null;
  ecosystem: string;
  package_name: string;
  distribution: string | null;
}

/** One change of one package's exposure to one vulnerability. */
interface PackageEvent {
  packageId: number;
  pkg: MatchPackage;
  event: NotificationEvent;
  vulnerability: string;
  distribution: string | null;
  record: Brief;
}

interface Location {
  registry: string;
  repository: string;
  tags: string[];
}

export interface ChangeNotifierOptions {
  publicBaseUrl: string;
  /** An image counts when a tag points at it (or at an index holding it) or it was seen this recently. */
  currentImageDays: number;
  logger: Logger;
}

const OUTBOX_BATCH = 1000;

/**
 * Turns changes into outbox rows, inside the transaction that makes the change:
 * - after a feed run, the run's diff is matched in reverse — each changed record is checked again
 *   (old and new side) against the distinct stored packages it names, through the matcher's own
 *   record check, and each package whose exposure changed fans out, through the package index, to
 *   the current images holding it: `newly-affected`, `fix-available` or `resolved`. No layer is
 *   read again.
 * - after an image's first report, its findings become `new-image` rows.
 * One row per (subscription, image, vulnerability, event), with a dedupe key, so writing twice adds
 * nothing. Subscriptions filter by registry, repository patterns (and the repositories their owner
 * may read), minimum severity and events.
 */
export class ChangeNotifier {
  private readonly options: ChangeNotifierOptions;

  constructor(options: ChangeNotifierOptions) {
    this.options = options;
  }

  /** The feed-run hook (`AppliedHook`): returns the outbox rows written. */
  async onRunApplied(trx: Knex.Transaction, run: { runId: number; updater: string; initial: boolean }): Promise<number> {
    if (run.initial) return 0;
    const subscriptions = await liveSubscriptions(trx);
    if (subscriptions.length === 0) return 0;
    const diff = (await trx('update_diffs').where({ run_id: run.runId }).select('vkey', 'change', 'before', 'after', 'ecosystem', 'package_name', 'distribution')) as DiffRow[];
    if (diff.length === 0) return 0;
    const events = await this.packageEvents(trx, diff);
    await fillSeverityFromNvd(trx, events);
    const written = await fanOut(
      trx,
      subscriptions,
      events.map((e) => ({
        packageId: e.packageId,
        packageName: e.pkg.name,
        event: e.event,
        vulnerability: e.vulnerability,
        distribution: e.distribution,
        finding: {
          vulnerability: e.vulnerability,
          aliases: e.record.aliases ?? [],
          package: e.pkg.name,
          ecosystem: e.pkg.ecosystem,
          installedVersion: e.pkg.version,
          fixedVersion: e.record.fixed_version,
          severity: e.record.severity,
          vendorSeverity: e.record.vendor_severity,
          links: (e.record.links ?? []).slice(0, 10),
        },
      })),
      { runId: run.runId, publicBaseUrl: this.options.publicBaseUrl, currentImageDays: this.options.currentImageDays, logger: this.options.logger },
    );
    if (written > 0) this.options.logger.info({ runId: run.runId, updater: run.updater, events: events.length, written }, 'notifier outbox written');
    return written;
  }

  /** `new-image` rows for an image's first report (call in the transaction that stores it, or right after). */
  async onFirstReport(db: Knex | Knex.Transaction, manifestId: number, report: ImageReport): Promise<number> {
    return this.onFindings(db, manifestId, report, report.findings, 'new-image');
  }

  /**
   * Outbox rows for some findings of one image's report, as `event` (`new-image` for a first
   * report; `exception-expired` when an accepted finding comes back): one per covering
   * subscription and finding, deduplicated on (subscription, image, vulnerability, package,
   * event, `dedupeSuffix`), so writing the same again adds nothing. Returns the rows written.
   */
  async onFindings(db: Knex | Knex.Transaction, manifestId: number, report: ImageReport, findings: readonly Finding[], event: NotificationEvent, dedupeSuffix = ''): Promise<number> {
    if (findings.length === 0) return 0;
    const subscriptions = await liveSubscriptions(db);
    if (subscriptions.length === 0) return 0;
    const locations = (await locationsOf(db, [manifestId])).get(manifestId) ?? [];
    if (locations.length === 0) return 0;
    const platform = report.image.platform ? `${report.image.platform.os}/${report.image.platform.architecture}${report.image.platform.variant ? `/${report.image.platform.variant}` : ''}` : null;
    const layerOf = new Map(report.packages.map((p) => [p.id, p.introducedIn]));
    const entries: OutboxEntry[] = [];
    for (const finding of findings) {
      for (const subscription of subscriptions) {
        const where = this.covers(subscription, event, finding.severity, locations);
        if (!where) continue;
        const payload: NotificationPayload = {
          version: 1,
          event,
          image: { ...where, digest: report.image.digest, platform },
          finding: {
            vulnerability: finding.vulnerability,
            aliases: finding.aliases,
            package: finding.package.name,
            ecosystem: finding.package.ecosystem,
            installedVersion: finding.package.version,
            fixedVersion: finding.fixedVersion,
            severity: finding.severity,
            vendorSeverity: finding.vendorSeverity,
            layer: layerOf.get(finding.packageId) ?? null,
            links: finding.links.slice(0, 10),
          },
          links: imageLinks(this.options.publicBaseUrl, report.image.digest),
          occurredAt: new Date().toISOString(),
        };
        entries.push({
          subscriptionId: subscription.id,
          manifestId,
          vulnName: finding.vulnerability,
          event,
          dedupeKey: `${subscription.id}:${report.image.digest}:${finding.vulnerability}:${finding.package.name}:${event}${dedupeSuffix ? `:${dedupeSuffix}` : ''}`,
          payload,
        });
      }
    }
    let written = 0;
    for (let i = 0; i < entries.length; i += OUTBOX_BATCH) written += (await writeOutbox(db, entries.slice(i, i + OUTBOX_BATCH))).length;
    return written;
  }

  /** Which stored packages each diff row now affects differently than before. */
  private async packageEvents(trx: Knex.Transaction, diff: readonly DiffRow[]): Promise<PackageEvent[]> {
    const byEcosystem = new Map<string, Set<string>>();
    for (const d of diff) {
      let names = byEcosystem.get(d.ecosystem);
      if (!names) byEcosystem.set(d.ecosystem, (names = new Set()));
      names.add(d.package_name);
    }
    const candidates = new Map<string, MatchPackage[]>(); // `${ecosystem}\0${name}` → packages named so (binary or source)
    for (const [ecosystem, names] of byEcosystem) {
      const list = [...names];
      for (let i = 0; i < list.length; i += 1000) {
        const chunk = list.slice(i, i + 1000);
        const rows = await trx('packages as p')
          .where('p.ecosystem', ecosystem)
          .where((q) => q.whereIn('p.name', chunk).orWhereIn('p.source_name', chunk))
          .whereExists(function () {
            this.select(1).from('manifest_packages as mp').whereRaw('mp.package_id = p.id');
          })
          .select('p.*');
        for (const r of rows) {
          const pkg: MatchPackage = { ...packageFromRow(r), path: '' };
          for (const key of new Set([r.name, r.source_name].filter(Boolean))) {
            const k = `${ecosystem}\u0000${key}`;
            const bucket = candidates.get(k) ?? [];
            bucket.push(pkg);
            candidates.set(k, bucket);
          }
        }
      }
    }
    const events: PackageEvent[] = [];
    const seen = new Set<string>();
    for (const d of diff) {
      const packages = candidates.get(`${d.ecosystem}\u0000${d.package_name}`) ?? [];
      for (const pkg of packages) {
        const context = { releaseKeys: new Set(d.distribution ? [d.distribution] : []), imageCpes: null };
        const affects = (b: Brief | null) => b !== null && checkRecord(pkg, toCandidate(b, d.vkey), context).verdict === 'affected';
        const before = affects(d.before);
        const after = affects(d.after);
        let event: NotificationEvent | null = null;
        if (!before && after) event = 'newly-affected';
        else if (before && !after) event = 'resolved';
        else if (before && after && !d.before?.fixed_version && d.after?.fixed_version && d.after.state === 'fixed') event = 'fix-available';
        if (event === null) continue;
        const record = (event === 'resolved' ? d.before : d.after)!;
        const key = `${pkg.id}\u0000${record.name}\u0000${event}\u0000${d.distribution ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        events.push({ packageId: Number(pkg.id), pkg, event, vulnerability: record.name, distribution: d.distribution, record });
      }
    }
    return events;
  }

  /** The first of the image's locations the subscription covers for this event and severity, or null. */
  private covers(subscription: Subscription, event: NotificationEvent, severity: Severity, locations: readonly Location[]): Location | null {
    if (!subscription.events.includes(event)) return null;
    if (SEVERITIES.indexOf(severity) < SEVERITIES.indexOf(subscription.minSeverity)) return null;
    const covers = repositoryMatcher(subscription);
    return locations.find((l) => covers(l.registry, l.repository)) ?? null;
  }
}

/**
 * A record without a vendor rating (Alpine's secdb has none) takes NVD's, as the report does, so
 * severity thresholds apply to it.
 */
async function fillSeverityFromNvd(trx: Knex.Transaction, events: PackageEvent[]): Promise<void> {
  const unknown = [...new Set(events.filter((e) => e.record.severity === 'Unknown').map((e) => e.vulnerability))];
  if (unknown.length === 0) return;
  const rows = await trx('enrichments').where({ kind: 'nvd' }).whereIn('vuln_name', unknown).select('vuln_name', 'data');
  const severity = new Map<string, Severity>();
  for (const r of rows) {
    const scores = ((r.data as { cvss?: CvssScore[] }).cvss ?? []).filter((c) => c.version !== '2.0');
    const best = scores[0] ?? ((r.data as { cvss?: CvssScore[] }).cvss ?? [])[0];
    if (best) severity.set(r.vuln_name, severityFromCvss(best));
  }
  for (const e of events) {
    const s = severity.get(e.vulnerability);
    if (e.record.severity === 'Unknown' && s) e.record = { ...e.record, severity: s };
  }
}

/** Where each manifest (or an index holding it) is known: registry, repository, current tags. */
async function locationsOf(db: Knex | Knex.Transaction, manifestIds: readonly number[]): Promise<Map<number, Location[]>> {
  const out = new Map<number, Location[]>();
  if (manifestIds.length === 0) return out;
  const { rows } = await db.raw<{ rows: { manifest_id: string; registry: string; repository: string; tags: string[] | null }[] }>(
    `with targets as (select unnest(?::bigint[]) as manifest_id),
          holders as (select t.manifest_id, t.manifest_id as holder from targets t
                      union select t.manifest_id, c.index_id from targets t join manifest_children c on c.child_id = t.manifest_id)
     select h.manifest_id, g.name as registry, r.name as repository,
            array_remove(array_agg(distinct tg.name), null) as tags
     from holders h
     join repository_manifests rm on rm.manifest_id = h.holder and rm.deleted_at is null
     join repositories r on r.id = rm.repository_id
     join registries g on g.id = r.registry_id
     left join tags tg on tg.repository_id = r.id and tg.manifest_id = h.holder and tg.deleted_at is null
     group by h.manifest_id, g.name, r.name
     order by h.manifest_id, g.name, r.name`,
    [[...manifestIds]] as unknown as Knex.RawBinding[],
  );
  for (const r of rows) {
    const id = Number(r.manifest_id);
    const list = out.get(id) ?? [];
    list.push({ registry: r.registry, repository: r.repository, tags: (r.tags ?? []).sort() });
    out.set(id, list);
  }
  return out;
}

function toCandidate(b: Brief, vkey: string): CandidateRecord {
  return {
    id: vkey,
    updater: '',
    name: b.name,
    aliases: b.aliases ?? [],
    ecosystem: b.ecosystem,
    distribution: b.distribution,
    repository: b.repository ?? null,
    module: b.module ?? null,
    packageName: b.package,
    packageKind: b.kind ?? 'binary',
    arch: b.arch ?? null,
    affectedRange: b.range ?? null,
    fixedVersion: b.fixed_version,
    state: b.state,
    stateReason: b.state_reason ?? null,
    vendorSeverity: b.vendor_severity ?? null,
    normalizedSeverity: b.severity,
    severitySource: null,
    cvss: [],
    description: null,
    links: b.links ?? [],
    publishedAt: null,
    modifiedAt: null,
  };
}
