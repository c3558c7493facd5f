import type { Config } from '../config/config-schema.ts';
import type { NotifierConfig } from '../notifier/notifier-config.ts';
import type { NewSubscription } from '../store/subscription-store.ts';

/** The delivery loop's settings from the `notifier` section (seconds become milliseconds). */
export function toNotifierConfig(config: Config): NotifierConfig {
  const n = config.notifier;
  const smtp = n.smtp;
  return {
    publicBaseUrl: n.publicBaseUrl,
    batching: { windowSeconds: n.batchWindowSeconds, maxBatchSize: n.maxBatchSize },
    retry: { maxAttempts: n.maxAttempts, baseDelayMs: n.retryBaseSeconds * 1000, maxDelayMs: n.retryMaxSeconds * 1000 },
    rateLimit: { perSecond: n.ratePerSecond, burst: n.rateBurst },
    concurrency: n.concurrency,
    leaseSeconds: n.leaseSeconds,
    pollIntervalMs: n.pollIntervalSeconds * 1000,
    retentionMs: n.retentionDays * 86_400_000,
    webhook: {
      timeouts: { connectMs: n.webhookTimeouts.connectSeconds * 1000, headersMs: n.webhookTimeouts.headersSeconds * 1000, totalMs: n.webhookTimeouts.totalSeconds * 1000 },
      maxErrorBodyBytes: 1024,
      userAgent: 'Lookout-Notifier/1',
    },
    smtp: smtp
      ? {
          host: smtp.host,
          port: smtp.port,
          security: smtp.security,
          auth: smtp.user && smtp.password ? { user: smtp.user, password: smtp.password } : null,
          from: smtp.from,
          insecureTls: smtp.insecureTls,
          connectTimeoutMs: smtp.timeoutSeconds * 1000,
          greetingTimeoutMs: smtp.timeoutSeconds * 1000,
          socketTimeoutMs: smtp.timeoutSeconds * 1000,
        }
      : null,
  };
}

/** The subscriptions the config defines, as the store keeps them. */
export function configSubscriptions(config: Config): NewSubscription[] {
  return config.subscriptions.map((s) => ({
    name: s.name,
    owner: null,
    registry: s.registry ?? null,
    repositories: [...s.repositories],
    channel: s.channel.type,
    target: s.channel.type === 'email' ? { recipients: [...s.channel.recipients] } : { url: s.channel.url },
    secret: s.channel.type === 'email' ? null : (s.channel.secret ?? null),
    minSeverity: s.minSeverity,
    events: [...s.events],
  }));
}
