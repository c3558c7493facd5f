import type { Config } from '../config/config-schema.ts';
import type { RegistryConfig } from '../registry/registry-config.ts';

/** The registry client's settings for each configured registry (seconds become milliseconds). */
export function toRegistryConfigs(config: Config): RegistryConfig[] {
  return config.registries.map((r) => ({
    name: r.name,
    url: r.url,
    aliases: [...r.aliases],
    ...(r.username !== undefined ? { username: r.username } : {}),
    ...(r.password !== undefined ? { password: r.password } : {}),
    ...(r.refreshToken !== undefined ? { refreshToken: r.refreshToken } : {}),
    ...(r.bearerToken !== undefined ? { bearerToken: r.bearerToken } : {}),
    tokenGrant: r.tokenGrant,
    insecure: r.insecureTls,
    concurrency: r.concurrency,
    timeouts: {
      connectMs: Math.round(r.timeouts.connectSeconds * 1000),
      headersMs: Math.round(r.timeouts.headersSeconds * 1000),
      bodyIdleMs: Math.round(r.timeouts.bodyIdleSeconds * 1000),
    },
    retries: {
      attempts: r.retries.attempts,
      baseDelayMs: Math.round(r.retries.baseDelaySeconds * 1000),
      maxDelayMs: Math.round(r.retries.maxDelaySeconds * 1000),
    },
  }));
}
