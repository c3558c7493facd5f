import { SEVERITIES, type Severity } from '../ecosystems/vulnerability-record.ts';
import { upgradeTarget } from '../remediation/upgrade-target.ts';
import type { ContentFinding, ContentImage, DeliveryContent } from './delivery-content.ts';
import type { NotificationEvent } from './notification-payload.ts';

/** An email's subject and its two bodies. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const EVENT_LABEL: Record<NotificationEvent, string> = {
  'new-image': 'new image',
  'newly-affected': 'newly affected',
  'fix-available': 'fix available',
  resolved: 'resolved',
  'exception-expired': 'exception expired',
};

const SEVERITY_COLOUR: Record<Severity, string> = {
  Critical: '#7b1fa2',
  High: '#c62828',
  Medium: '#ef6c00',
  Low: '#f9a825',
  Negligible: '#607d8b',
  Unknown: '#9e9e9e',
};

/** One package upgrade advised in a message: the smallest version fixing all its findings there. */
export interface EmailUpgrade {
  package: string;
  ecosystem: string | null;
  installedVersion: string;
  /** Null when the fixed versions could not be compared in the package's version scheme. */
  upgradeTo: string | null;
  fixedVersions: string[];
  removes: number;
  bySeverity: Record<Severity, number>;
}

/**
 * The upgrades that fix an image's findings in a message (those still open: not `resolved`),
 * per package: the highest of their fixed versions in the ecosystem's version scheme, and how
 * many findings by severity it removes; most severe first.
 */
export function emailUpgrades(image: ContentImage): EmailUpgrade[] {
  const byPackage = new Map<string, ContentFinding[]>();
  for (const f of image.findings) {
    if (f.event === 'resolved' || f.fixedVersion === null || f.fixedVersion.trim() === '') continue;
    const key = `${f.ecosystem ?? ''}\u0000${f.package}\u0000${f.installedVersion}`;
    const list = byPackage.get(key);
    if (list) list.push(f);
    else byPackage.set(key, [f]);
  }
  const out: EmailUpgrade[] = [];
  for (const findings of byPackage.values()) {
    const f0 = findings[0]!;
    const target = upgradeTarget(f0.ecosystem ?? '', findings.map((f) => f.fixedVersion!));
    const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
    const vulns = new Set<string>();
    for (const f of findings) {
      if (vulns.has(f.vulnerability)) continue;
      vulns.add(f.vulnerability);
      bySeverity[f.severity]++;
    }
    out.push({ package: f0.package, ecosystem: f0.ecosystem, installedVersion: f0.installedVersion, upgradeTo: target.version, fixedVersions: target.fixedVersions, removes: vulns.size, bySeverity });
  }
  const worst = (u: EmailUpgrade) => Math.max(...SEVERITIES.map((s, i) => (u.bySeverity[s] > 0 ? i : -1)));
  return out.sort((a, b) => worst(b) - worst(a) || b.removes - a.removes || a.package.localeCompare(b.package));
}

function countsText(counts: Record<Severity, number>): string {
  return [...SEVERITIES].reverse().filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`).join(', ');
}

function upgradeText(u: EmailUpgrade): string {
  return `${u.package} ${u.installedVersion} -> ${u.upgradeTo ?? `one of ${u.fixedVersions.join(', ')}`} removes ${u.removes} (${countsText(u.bySeverity)})`;
}

/**
 * One email for one delivery: the summary as subject, then each image (reference, digest, links)
 * with a row per finding (severity, vulnerability, package, installed and fixed versions, the layer
 * that introduced it, and the event when the message mixes several), then the package upgrades
 * that fix them (see {@link emailUpgrades}). Everything from the payload is escaped in the HTML part.
 */
export function renderEmail(content: DeliveryContent, context: { deliveryId: string; subscriptionName: string }): RenderedEmail {
  const mixed = content.events.length > 1;
  return {
    subject: content.summary,
    text: renderText(content, context, mixed),
    html: renderHtml(content, context, mixed),
  };
}

function renderText(content: DeliveryContent, context: { deliveryId: string; subscriptionName: string }, mixed: boolean): string {
  const lines: string[] = [content.summary, ''];
  for (const image of content.images) {
    lines.push(`${image.registry}/${image.repository}${image.tags.length > 0 ? ` (tags: ${image.tags.join(', ')})` : ''}`);
    lines.push(`  digest:  ${image.digest}${image.platform ? ` (${image.platform})` : ''}`);
    lines.push(`  report:  ${image.links.report}`);
    lines.push(`  status:  ${image.links.status}`);
    for (const f of image.findings) {
      lines.push(`  - [${f.severity}] ${f.vulnerability} in ${f.package} ${f.installedVersion}, ${fixText(f)}${mixed ? ` (${EVENT_LABEL[f.event]})` : ''}`);
      if (f.layer) lines.push(`      introduced in layer ${f.layer}`);
    }
    const upgrades = emailUpgrades(image);
    if (upgrades.length > 0) {
      lines.push('  Upgrades that fix these:');
      for (const u of upgrades) lines.push(`  * ${upgradeText(u)}`);
    }
    lines.push('');
  }
  lines.push(`Sent for subscription "${context.subscriptionName}". Delivery ${context.deliveryId}.`);
  return `${lines.map(oneLine).join('\n')}\n`;
}

function renderHtml(content: DeliveryContent, context: { deliveryId: string; subscriptionName: string }, mixed: boolean): string {
  const parts: string[] = [
    '<!doctype html><html><head><meta charset="utf-8"><title>',
    esc(content.summary),
    '</title></head><body style="font-family:sans-serif;font-size:14px;color:#212121">',
    `<h2 style="font-size:18px">${esc(content.summary)}</h2>`,
  ];
  for (const image of content.images) parts.push(renderImage(image, mixed));
  parts.push(
    `<p style="color:#757575;font-size:12px">Sent for subscription &quot;${esc(context.subscriptionName)}&quot;. Delivery ${esc(context.deliveryId)}.</p>`,
    '</body></html>',
  );
  return parts.join('');
}

function renderImage(image: ContentImage, mixed: boolean): string {
  const tags = image.tags.length > 0 ? ` <span style="color:#616161">(tags: ${image.tags.map(esc).join(', ')})</span>` : '';
  const head = [
    `<h3 style="font-size:15px;margin-bottom:4px">${esc(`${image.registry}/${image.repository}`)}${tags}</h3>`,
    `<div style="font-family:monospace;font-size:12px">${esc(image.digest)}${image.platform ? ` (${esc(image.platform)})` : ''}</div>`,
    `<div><a href="${esc(image.links.report)}">Report</a> · <a href="${esc(image.links.status)}">Status API</a></div>`,
  ];
  const th = (label: string) => `<th style="text-align:left;padding:4px 8px;border-bottom:1px solid #bdbdbd">${label}</th>`;
  const header = ['Severity', 'Vulnerability', 'Package', 'Installed', 'Fixed in', 'Layer', ...(mixed ? ['Change'] : [])].map(th).join('');
  const rows = image.findings.map((f) => renderFinding(f, mixed)).join('');
  const upgrades = emailUpgrades(image);
  const advice = upgrades.length === 0
    ? ''
    : `<p style="margin:4px 0"><strong>Upgrades that fix these</strong></p><ul style="margin:0 0 16px">${upgrades
        .map((u) => `<li><span style="font-family:monospace">${esc(u.package)}</span> ${esc(u.installedVersion)} &rarr; <strong>${esc(u.upgradeTo ?? `one of ${u.fixedVersions.join(', ')}`)}</strong> removes ${u.removes} (${esc(countsText(u.bySeverity))})</li>`)
        .join('')}</ul>`;
  return `${head.join('')}<table style="border-collapse:collapse;margin:8px 0 16px"><thead><tr>${header}</tr></thead><tbody>${rows}</tbody></table>${advice}`;
}

function renderFinding(f: ContentFinding, mixed: boolean): string {
  const td = (html: string) => `<td style="padding:4px 8px;border-bottom:1px solid #eeeeee">${html}</td>`;
  const link = f.links[0];
  const vuln = link ? `<a href="${esc(link)}">${esc(f.vulnerability)}</a>` : esc(f.vulnerability);
  const cells = [
    `<span style="color:${SEVERITY_COLOUR[f.severity]};font-weight:bold">${esc(f.severity)}</span>`,
    vuln,
    esc(f.package),
    esc(f.installedVersion),
    f.fixedVersion ? esc(f.fixedVersion) : '<em>no fix yet</em>',
    f.layer ? `<span style="font-family:monospace;font-size:12px" title="${esc(f.layer)}">${esc(shortDigest(f.layer))}</span>` : '',
    ...(mixed ? [esc(EVENT_LABEL[f.event])] : []),
  ];
  return `<tr>${cells.map(td).join('')}</tr>`;
}

function fixText(f: ContentFinding): string {
  return f.fixedVersion ? `fixed in ${f.fixedVersion}` : 'no fix yet';
}

/** `sha256:0123456789ab…` (algorithm and 12 hex digits). */
function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest : `${digest.slice(0, colon + 13)}…`;
}

function oneLine(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** HTML-escapes text for element content and double-quoted attributes. */
function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
