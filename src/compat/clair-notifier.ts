import { BadRequestError } from '../errors/app-error.ts';
import { clairNotificationPage, type ClairNotificationPage } from '../notifier/clair-notification-page.ts';
import type { NotificationStore } from '../store/notification-store.ts';
import type { ClairStore } from './clair-store.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Clair v4's notifier API on Lookout's outbox: a notification id is a delivery of a `clair`
 * subscription (the id its callback named); its notifications are paged by keyset (`next` is the
 * last id of the previous page, absent on the last page), and a DELETE acknowledges it, after which
 * it is no longer served. Ids of other channels' deliveries are not found.
 */
export class ClairNotifier {
  private readonly store: ClairStore;
  private readonly notifications: NotificationStore;

  constructor(deps: { store: ClairStore; notifications: NotificationStore }) {
    this.store = deps.store;
    this.notifications = deps.notifications;
  }

  /** One page of notification `id`, or null when unknown (or deleted). Throws a 400 for a malformed id or `next`. */
  async page(id: string, options: { pageSize: number; next?: string }): Promise<ClairNotificationPage | null> {
    if (!(await this.exists(id))) return null;
    if (options.next !== undefined && !UUID.test(options.next)) throw new BadRequestError('next must be a notification id from a previous page', { code: 'bad-request' });
    const rows = await this.notifications.notificationsOf(id, { limit: options.pageSize + 1, ...(options.next !== undefined ? { after: options.next } : {}) });
    return clairNotificationPage(rows, options.pageSize);
  }

  /** Acknowledges notification `id`; false when unknown. Deleting twice is not an error. */
  async delete(id: string): Promise<boolean> {
    if (!UUID.test(id)) throw new BadRequestError('the notification id is not a UUID', { code: 'bad-request' });
    const delivery = await this.notifications.get(id);
    if (delivery === null || delivery.channel !== 'clair') return false;
    await this.store.acknowledge(id);
    return true;
  }

  private async exists(id: string): Promise<boolean> {
    if (!UUID.test(id)) throw new BadRequestError('the notification id is not a UUID', { code: 'bad-request' });
    const delivery = await this.notifications.get(id);
    return delivery !== null && delivery.channel === 'clair' && !(await this.store.acknowledged(id));
  }
}
