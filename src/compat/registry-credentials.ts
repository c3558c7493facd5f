import type { RegistryConfig } from '../registry/registry-config.ts';

/** Credentials a caller handed over for one registry: a Basic user and password, or a bearer token. */
export type RegistryCredentials = { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

const TOKEN = /^[\x21-\x7e]{1,16384}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads an `Authorization` value as Harbor sends it for the registry: `Basic base64(user:password)`
 * (a robot account; the user name may hold `$` and `+`) or `Bearer <token>`. Null when it is
 * neither, or malformed.
 */
export function parseRegistryAuthorization(value: string): RegistryCredentials | null {
  const match = /^(basic|bearer)\s+(\S+)\s*$/i.exec(value.trim());
  if (!match) return null;
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  if (!TOKEN.test(rest)) return null;
  if (scheme === 'bearer') return { kind: 'bearer', token: rest };
  if (!BASE64.test(rest)) return null;
  const decoded = Buffer.from(rest, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1 || /[\0\r\n]/.test(decoded)) return null;
  return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * `config` with its own credentials replaced by `credentials`: the registry's origin, TLS,
 * timeouts and limits stay, so the handed-over credentials go only where the configured ones would.
 */
export function withCredentials(config: RegistryConfig, credentials: RegistryCredentials): RegistryConfig {
  const { username: _u, password: _p, refreshToken: _r, bearerToken: _b, ...rest } = config;
  return credentials.kind === 'basic' ? { ...rest, username: credentials.username, password: credentials.password } : { ...rest, bearerToken: credentials.token };
}
