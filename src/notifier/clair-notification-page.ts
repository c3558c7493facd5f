import type { OutboxNotification } from '../store/notification-store.ts';
import { parseNotificationPayload, type NotificationEvent } from './notification-payload.ts';

/** One notification as Clair v4's `GET /notifier/api/v1/notification/{id}` returns it. */
export interface ClairNotification {
  id: string;
  manifest: string;
  reason: 'added' | 'removed';
  vulnerability: {
    name: string;
    fixed_in_version?: string;
    severity?: string;
    normalized_severity: string;
    links?: string;
    package: { name: string; version: string; kind: 'BINARY' };
    arch_op: 'equals';
  };
}

/** A page of that endpoint: `next` (the last id returned) only when more follow. */
export interface ClairNotificationPage {
  page: { size: number; next?: string };
  notifications: ClairNotification[];
}

const REASON: Record<NotificationEvent, 'added' | 'removed'> = {
  'new-image': 'added',
  'newly-affected': 'added',
  'fix-available': 'added',
  'exception-expired': 'added',
  resolved: 'removed',
};

/**
 * Builds a Clair notification page from up to `pageSize + 1` rows read with
 * `NotificationStore.notificationsOf(id, { limit: pageSize + 1, after: next })`: the extra row only
 * says that another page exists. Rows whose payload does not check out are left out.
 */
export function clairNotificationPage(rows: readonly OutboxNotification[], pageSize: number): ClairNotificationPage {
  const page = rows.slice(0, pageSize);
  const notifications: ClairNotification[] = [];
  for (const row of page) {
    const parsed = parseNotificationPayload(row.payload);
    if (!parsed.ok) continue;
    const { finding, image, event } = parsed.payload;
    notifications.push({
      id: row.id,
      manifest: image.digest,
      reason: REASON[event],
      vulnerability: {
        name: finding.vulnerability,
        ...(finding.fixedVersion ? { fixed_in_version: finding.fixedVersion } : {}),
        ...(finding.vendorSeverity ? { severity: finding.vendorSeverity } : {}),
        normalized_severity: finding.severity,
        ...(finding.links && finding.links.length > 0 ? { links: finding.links.join(' ') } : {}),
        package: { name: finding.package, version: finding.installedVersion, kind: 'BINARY' },
        arch_op: 'equals',
      },
    });
  }
  const last = page.at(-1);
  return { page: { size: notifications.length, ...(rows.length > pageSize && last ? { next: last.id } : {}) }, notifications };
}
