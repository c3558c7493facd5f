import type { RegistryConfig } from '../registry/registry-config.ts';

/**
 * The configured registry that `url` belongs to, or null: its origin is the registry URL's origin,
 * or its `host[:port]` is one of the registry's aliases with the registry URL's scheme. Only http
 * and https URLs without credentials can match.
 */
export function registryForUrl(configs: readonly RegistryConfig[], url: URL): RegistryConfig | null {
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return null;
  const host = url.host.toLowerCase();
  for (const config of configs) {
    let base: URL;
    try {
      base = new URL(config.url);
    } catch {
      continue;
    }
    if (base.origin === url.origin) return config;
    if (base.protocol === url.protocol && (config.aliases ?? []).some((alias) => alias.toLowerCase() === host)) return config;
  }
  return null;
}

/** `value` as a URL, or null when it is not an absolute http(s) URL. */
export function parseHttpUrl(value: string): URL | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
}
