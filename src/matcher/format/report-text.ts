import { SEVERITIES, type Severity } from '../../ecosystems/vulnerability-record.ts';
import type { ImageReport } from '../image-report.ts';
import type { ReportSummary } from '../report-summary.ts';

/**
 * Text from an image (package names, versions, vendor words) made safe for a terminal or a plain
 * text file: control characters (ANSI escapes, carriage returns, NULs) become `?`, line breaks a space.
 */
export function plain(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

/** `linux/arm64/v8`, or null when the report has no platform. */
export function platformText(report: Pick<ImageReport, 'image'>): string | null {
  const p = report.image.platform;
  return p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : null;
}

/** `Ubuntu 18.04.6 LTS (ubuntu:bionic)`, or null without a distribution. */
export function distributionText(report: Pick<ImageReport, 'image'>): string | null {
  const d = report.image.distribution;
  if (d === null) return null;
  const name = d.prettyName ?? [d.name ?? d.did, d.versionId].filter(Boolean).join(' ');
  return d.key ? `${name} (${d.key})` : `${name} (no feed)`;
}

/** `12: 1 Critical, 3 High, … · 7 fixable`, severities most severe first. */
export function summaryText(summary: ReportSummary): string {
  const counts = [...SEVERITIES].reverse().map((s) => `${summary.bySeverity[s]} ${s}`);
  return `${summary.total}: ${counts.join(', ')} · ${summary.fixable} fixable`;
}

/** What was left out, in words (`1 finding in kernel header packages · 2 third-party packages`), or null when nothing was. */
export function suppressedText(summary: ReportSummary): string | null {
  const s = summary.suppressed;
  const parts: string[] = [];
  const k = s['kernel-headers'].findings ?? 0;
  if (k > 0) parts.push(`${k} finding${k === 1 ? '' : 's'} in kernel header packages`);
  const tp = s['third-party'].packages;
  if (tp > 0) parts.push(`${tp} third-party package${tp === 1 ? '' : 's'}`);
  const owned = s['owned-by-os-package'].packages;
  if (owned > 0) parts.push(`${owned} language package${owned === 1 ? '' : 's'} matched through ${owned === 1 ? 'its' : 'their'} OS package`);
  return parts.length === 0 ? null : parts.join(' · ');
}

/** Severities most severe first. */
export const SEVERITIES_DESC: readonly Severity[] = [...SEVERITIES].reverse();
