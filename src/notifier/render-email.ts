import type { Severity } from '../ecosystems/vulnerability-record.ts';
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

/**
 * One email for one delivery: the summary as subject, then each image (reference, digest, links)
 * with a row per finding (severity, vulnerability, package, installed and fixed versions, the layer
 * that introduced it, and the event when the message mixes several). Everything from the payload
 * is escaped in the HTML part.
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
  return `${head.join('')}<table style="border-collapse:collapse;margin:8px 0 16px"><thead><tr>${header}</tr></thead><tbody>${rows}</tbody></table>`;
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
