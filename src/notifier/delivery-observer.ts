import type { NotificationChannel } from '../store/notification-store.ts';

/**
 * Metrics hooks of the delivery loop; the composition root wires them to Prometheus. Calls are
 * synchronous and must not throw.
 */
export interface DeliveryObserver {
  /** Deliveries made from outbox rows (`notifications` rows in them). */
  queued(channel: NotificationChannel, deliveries: number, notifications: number): void;
  /**
   * A delivery reached its receiver: `latencySeconds` from its oldest outbox row to now,
   * `attemptSeconds` for the successful attempt, `attempts` used.
   */
  delivered(channel: NotificationChannel, info: { latencySeconds: number; attemptSeconds: number; attempts: number }): void;
  /** An attempt failed and will be retried. */
  failed(channel: NotificationChannel, info: { attemptSeconds: number; status: number | null }): void;
  /** A delivery went to the dead-letter list. */
  dead(channel: NotificationChannel): void;
  /** A delivery was handed back unsent because its destination's rate limit was spent. */
  deferred?(channel: NotificationChannel): void;
}

/** An observer that records nothing. */
export const NOOP_DELIVERY_OBSERVER: DeliveryObserver = {
  queued() {},
  delivered() {},
  failed() {},
  dead() {},
};
