/**
 * A URL as it may appear in logs and error messages: scheme, host and path only. User info,
 * query strings (pre-signed blob URLs carry signatures there) and fragments are dropped.
 */
export function describeUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return '(invalid URL)';
  }
  const path = parsed.pathname.length > 300 ? `${parsed.pathname.slice(0, 300)}…` : parsed.pathname;
  return `${parsed.protocol}//${parsed.host}${path}`;
}
