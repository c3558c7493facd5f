import type { DeliveryContent } from './delivery-content.ts';
import { publicBase } from './notification-payload.ts';

/**
 * The JSON a webhook subscription receives, Standard Webhooks style (`type`, `timestamp`, `data`).
 * `type` is `lookout.<event>` when the message carries one kind of change, `lookout.changes`
 * otherwise. `data.id` is the delivery id, the same as the `webhook-id` header.
 */
export interface WebhookBody {
  type: string;
  /** When this message was made (ISO 8601); the same on every retry. */
  timestamp: string;
  data: {
    id: string;
    subscription: { id: string; name: string };
    summary: string;
    events: DeliveryContent['events'];
    highestSeverity: DeliveryContent['highestSeverity'];
    vulnerabilities: string[];
    images: DeliveryContent['images'];
  };
}

/** The full-payload body of one delivery; `createdAt` is the delivery's creation time. */
export function webhookBody(content: DeliveryContent, delivery: { id: string; createdAt: Date; subscription: { id: string; name: string } }): WebhookBody {
  return {
    type: content.events.length === 1 ? `lookout.${content.events[0]}` : 'lookout.changes',
    timestamp: delivery.createdAt.toISOString(),
    data: {
      id: delivery.id,
      subscription: { id: delivery.subscription.id, name: delivery.subscription.name },
      summary: content.summary,
      events: content.events,
      highestSeverity: content.highestSeverity,
      vulnerabilities: content.vulnerabilities,
      images: content.images,
    },
  };
}

/** The Clair v4 notifier's webhook body: the notification id and where to page its notifications. */
export interface ClairCallbackBody {
  notification_id: string;
  callback: string;
}

/** `{"notification_id": id, "callback": "<base>/notifier/api/v1/notification/<id>"}`, as Clair sends it. */
export function clairCallbackBody(deliveryId: string, publicBaseUrl: string): ClairCallbackBody {
  return { notification_id: deliveryId, callback: `${publicBase(publicBaseUrl)}/notifier/api/v1/notification/${deliveryId}` };
}
