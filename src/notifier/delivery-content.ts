import { SEVERITIES, type Severity } from '../ecosystems/vulnerability-record.ts';
import type { NotificationEvent, NotificationPayload, PayloadLinks } from './notification-payload.ts';

/** One finding in a message: the outbox row it came from and what changed. */
export interface ContentFinding {
  notificationId: string;
  event: NotificationEvent;
  vulnerability: string;
  aliases: string[];
  package: string;
  ecosystem: string | null;
  installedVersion: string;
  fixedVersion: string | null;
  severity: Severity;
  vendorSeverity: string | null;
  layer: string | null;
  links: string[];
}

/** One image in a message with its findings, most severe first. */
export interface ContentImage {
  registry: string;
  repository: string;
  tags: string[];
  digest: string;
  platform: string | null;
  links: PayloadLinks;
  findings: ContentFinding[];
}

/** What one delivery says, channel-independent: images → findings, and a one-line summary. */
export interface DeliveryContent {
  /** Distinct events, in the order of {@link NOTIFICATION_EVENT_ORDER}. */
  events: NotificationEvent[];
  images: ContentImage[];
  /** Distinct vulnerability ids, most severe first. */
  vulnerabilities: string[];
  findingCount: number;
  highestSeverity: Severity;
  /** `3 images newly affected by CVE-2026-1234 (critical)` and the like; one line, no control characters. */
  summary: string;
}

/** A checked outbox row: its id and payload. */
export interface ContentInput {
  notificationId: string;
  payload: NotificationPayload;
}

const NOTIFICATION_EVENT_ORDER: readonly NotificationEvent[] = ['newly-affected', 'new-image', 'fix-available', 'exception-expired', 'resolved'];
const MAX_SUMMARY = 200;

/**
 * Groups the rows of one delivery by image (registry, repository, digest; tags merged), findings
 * most severe first, and says in one line what happened. `rows` must not be empty.
 */
export function buildDeliveryContent(rows: readonly ContentInput[]): DeliveryContent {
  if (rows.length === 0) throw new RangeError('a delivery needs at least one notification');
  const images = new Map<string, ContentImage>();
  const events = new Set<NotificationEvent>();
  const severityOf = new Map<string, number>();
  for (const { notificationId, payload } of rows) {
    const { image, finding } = payload;
    const key = `${image.registry}\u0000${image.repository}\u0000${image.digest}`;
    let entry = images.get(key);
    if (entry === undefined) {
      entry = { registry: image.registry, repository: image.repository, tags: [], digest: image.digest, platform: image.platform ?? null, links: payload.links, findings: [] };
      images.set(key, entry);
    }
    for (const tag of image.tags) if (!entry.tags.includes(tag)) entry.tags.push(tag);
    entry.findings.push({
      notificationId,
      event: payload.event,
      vulnerability: finding.vulnerability,
      aliases: finding.aliases ?? [],
      package: finding.package,
      ecosystem: finding.ecosystem ?? null,
      installedVersion: finding.installedVersion,
      fixedVersion: finding.fixedVersion,
      severity: finding.severity,
      vendorSeverity: finding.vendorSeverity ?? null,
      layer: finding.layer,
      links: finding.links ?? [],
    });
    events.add(payload.event);
    const rank = SEVERITIES.indexOf(finding.severity);
    severityOf.set(finding.vulnerability, Math.max(rank, severityOf.get(finding.vulnerability) ?? 0));
  }
  const list = [...images.values()];
  for (const image of list) {
    image.findings.sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.vulnerability.localeCompare(b.vulnerability) || a.package.localeCompare(b.package));
  }
  const worst = (image: ContentImage): number => SEVERITIES.indexOf(image.findings[0]!.severity);
  list.sort((a, b) => worst(b) - worst(a) || `${a.registry}/${a.repository}`.localeCompare(`${b.registry}/${b.repository}`) || a.digest.localeCompare(b.digest));
  const vulnerabilities = [...severityOf.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name]) => name);
  const highestSeverity = SEVERITIES[Math.max(...severityOf.values())]!;
  const content: Omit<DeliveryContent, 'summary'> = {
    events: NOTIFICATION_EVENT_ORDER.filter((e) => events.has(e)),
    images: list,
    vulnerabilities,
    findingCount: rows.length,
    highestSeverity,
  };
  return { ...content, summary: summarize(content) };
}

/** `registry/repository:tag` (first tag) or `registry/repository@digest` for one image. */
export function imageReference(image: Pick<ContentImage, 'registry' | 'repository' | 'tags' | 'digest'>): string {
  const name = `${image.registry}/${image.repository}`;
  return image.tags.length > 0 ? `${name}:${image.tags[0]}` : `${name}@${image.digest}`;
}

function summarize(content: Omit<DeliveryContent, 'summary'>): string {
  const n = content.images.length;
  const m = content.vulnerabilities.length;
  const images = n === 1 ? '1 image' : `${n} images`;
  const vulns = `${m} vulnerabilities`;
  const sev = content.highestSeverity.toLowerCase();
  const one = content.vulnerabilities[0]!;
  let line: string;
  if (content.events.length !== 1) {
    line = `${content.findingCount} vulnerability changes in ${images} (highest: ${sev})`;
  } else {
    switch (content.events[0]!) {
      case 'newly-affected':
        line = m === 1 ? `${images} newly affected by ${one} (${sev})` : `${images} newly affected by ${vulns} (highest: ${sev})`;
        break;
      case 'fix-available':
        line = m === 1 ? `Fix available for ${one} in ${images}` : `Fixes available for ${vulns} in ${images}`;
        break;
      case 'resolved':
        line = m === 1 ? `${one} resolved in ${images}` : `${vulns} resolved in ${images}`;
        break;
      case 'exception-expired':
        line = m === 1 ? `Exception for ${one} expired in ${images}` : `Exceptions for ${vulns} expired in ${images}`;
        break;
      case 'new-image': {
        const what = m === 1 ? `${one} (${sev})` : `${vulns} (highest: ${sev})`;
        line = n === 1 ? `New image ${imageReference(content.images[0]!)} has ${what}` : `${n} new images have ${what}`;
        break;
      }
    }
  }
  const clean = line.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return clean.length > MAX_SUMMARY ? `${clean.slice(0, MAX_SUMMARY - 1)}…` : clean;
}
