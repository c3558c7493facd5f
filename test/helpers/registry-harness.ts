/**
 * A real Docker Distribution registry (Debian's `docker-registry`, 2.8) for tests, on 127.0.0.1.
 *
 * - {@link startRegistry}: generated config (filesystem storage in a temp dir, deletes enabled),
 *   optional notifications to a URL you give (with `Authorization: Bearer <secret>`), optional
 *   `auth: token`, optional `redirect` storage middleware; waits until `/v2/` answers; `stop()`
 *   ends the process by its PID and removes the temp dir.
 * - {@link pushImage}: `skopeo copy oci:DIR:TAG docker://127.0.0.1:PORT/repo:tag` (OCI or Docker
 *   v2s2 format, `--all` for indexes, credentials for token mode). Build DIR with oci-image-builder.ts.
 * - {@link startTokenService}: a distribution token service made with jose, signing ES256 with the
 *   libtrust `kid` registry 2.8 expects, or RS256 with an `x5c` chain (leaf + CA); GET (Basic
 *   credentials) and OAuth2 POST (password and refresh_token grants); tokens carry `access` claims
 *   for the configured users (intersection of asked and allowed actions); every request is recorded
 *   (never with passwords). Its certificates are made with the `openssl` command.
 * - {@link deleteManifest}, {@link freePort}, {@link blobPath} for the rest.
 *
 * Tests skip with {@link NO_REGISTRY} / {@link NO_OPENSSL} in the title when the tools are absent:
 *
 *   const maybe = HAVE_REGISTRY ? test : test.skip;
 *   maybe(`pulls an image${HAVE_REGISTRY ? '' : NO_REGISTRY}`, async (t) => {
 *     const registry = await startRegistry({}, t);          // stopped at t's teardown
 *     await pushImage(layoutDir, 'app', registry, 'demo/app:v1');
 *   });
 *
 * With `test.before`, keep the handle and call `stop()` in `test.after.always`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { stringify } from 'yaml';

/** Absolute path of an executable found on PATH, or null. */
export function findExecutable(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}

/** The registry binary (`LOOKOUT_DOCKER_REGISTRY` or `docker-registry` on PATH), or null. */
export const REGISTRY_BIN = process.env.LOOKOUT_DOCKER_REGISTRY ?? findExecutable('docker-registry');
/** skopeo (`LOOKOUT_SKOPEO` or on PATH), or null. */
export const SKOPEO_BIN = process.env.LOOKOUT_SKOPEO ?? findExecutable('skopeo');
/** openssl (for the token service's certificates), or null. */
export const OPENSSL_BIN = findExecutable('openssl');

/** True when both docker-registry and skopeo are installed. */
export const HAVE_REGISTRY = REGISTRY_BIN !== null && SKOPEO_BIN !== null && existsSync(REGISTRY_BIN) && existsSync(SKOPEO_BIN);
/** True when token-mode tests can run (registry tools and openssl). */
export const HAVE_TOKEN_TOOLS = HAVE_REGISTRY && OPENSSL_BIN !== null;
/** Title suffix of tests skipped for want of the registry tools. */
export const NO_REGISTRY = ' (skipped: docker-registry or skopeo is not installed)';
/** Title suffix of tests skipped for want of openssl. */
export const NO_OPENSSL = ' (skipped: docker-registry, skopeo or openssl is not installed)';

/** Something with ava's `t.teardown`. */
export interface Teardown {
  teardown(fn: () => Promise<void> | void): void;
}

/** Options of {@link startRegistry}. */
export interface RegistryOptions {
  /** Send notifications to `url` with `Authorization: Bearer <secret>`. */
  notifications?: {
    url: string;
    secret: string;
    /** Drop blob events and pull/mount actions registry-side (default true). */
    filterNoise?: boolean;
    /** Endpoint timeout (Go duration, default `1s`). */
    timeout?: string;
  };
  /** `auth: token` settings; `rootCertBundle` is PEM (written to a file for the registry). */
  tokenAuth?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Add the `redirect` storage middleware: blob GETs answer 307 to `<baseUrl>/docker/registry/v2/blobs/…`. */
  redirectBaseUrl?: string;
}

/** A running registry. */
export interface RunningRegistry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT` (for image references and skopeo) */
  host: string;
  port: number;
  pid: number;
  /** The filesystem storage root (blobs under `docker/registry/v2/blobs/sha256/xx/<hex>/data`). */
  storageDir: string;
  /** The registry's log so far. */
  log(): Promise<string>;
  /** Ends the registry process (SIGTERM, then SIGKILL) and removes its temp dir. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `docker-registry serve` on a free loopback port; see the module comment. */
export async function startRegistry(options: RegistryOptions = {}, owner?: Teardown): Promise<RunningRegistry> {
  if (REGISTRY_BIN === null) throw new Error('docker-registry is not installed');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-registry-'));
  const storageDir = path.join(dir, 'storage');
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config: Record<string, unknown> = {
      version: 0.1,
      log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: storageDir }, delete: { enabled: true }, cache: { blobdescriptor: 'inmemory' } },
      http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
    };
    if (options.tokenAuth) {
      const bundle = path.join(dir, 'root-certs.pem');
      await writeFile(bundle, options.tokenAuth.rootCertBundle);
      config.auth = { token: { realm: options.tokenAuth.realm, service: options.tokenAuth.service, issuer: options.tokenAuth.issuer, rootcertbundle: bundle } };
    }
    if (options.redirectBaseUrl) {
      config.middleware = { storage: [{ name: 'redirect', options: { baseurl: options.redirectBaseUrl } }] };
    }
    if (options.notifications) {
      const n = options.notifications;
      config.notifications = {
        events: { includereferences: true },
        endpoints: [
          {
            name: 'lookout',
            url: n.url,
            headers: { Authorization: [`Bearer ${n.secret}`] },
            timeout: n.timeout ?? '1s',
            threshold: 3,
            backoff: '1s',
            ...(n.filterNoise === false ? {} : { ignore: { mediatypes: ['application/octet-stream'], actions: ['pull', 'mount'] } }),
          },
        ],
      };
    }
    const configPath = path.join(dir, 'config.yml');
    await writeFile(configPath, stringify(config));
    const logPath = path.join(dir, `registry-${attempt}.log`);
    const child = spawnLogged(REGISTRY_BIN, ['serve', configPath], logPath, dir);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilAnswers(`${url}/v2/`, child, logPath);
    } catch (err) {
      lastError = err;
      await stopChild(child);
      continue;
    }
    const handle: RunningRegistry = {
      url,
      host: `127.0.0.1:${port}`,
      port,
      pid: child.pid!,
      storageDir,
      log: () => readFile(logPath, 'utf8'),
      stop: async () => {
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
    owner?.teardown(() => handle.stop());
    return handle;
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error('docker-registry did not start');
}

/** Where the filesystem driver keeps a blob (what the `redirect` middleware points at). */
export function blobPath(registry: Pick<RunningRegistry, 'storageDir'>, digest: string): string {
  const hex = digest.slice(digest.indexOf(':') + 1);
  return path.join(registry.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/** Options of {@link pushImage}. */
export interface PushOptions {
  /** `oci` (as built, the default) or `v2s2` (converted to Docker schema 2). */
  format?: 'oci' | 'v2s2';
  /** Copy every manifest of an index (`--all`). */
  all?: boolean;
  /** Credentials for a token-auth registry. */
  creds?: { username: string; password: string };
}

/** Pushes `layoutDir:tag` to `registry` as `repoAndTag` (`demo/app:v1`) with skopeo. */
export async function pushImage(layoutDir: string, tag: string, registry: Pick<RunningRegistry, 'host'>, repoAndTag: string, options: PushOptions = {}): Promise<void> {
  if (SKOPEO_BIN === null) throw new Error('skopeo is not installed');
  const args = ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false'];
  if (options.format === 'v2s2') args.push('--format', 'v2s2');
  if (options.all) args.push('--all');
  if (options.creds) args.push('--dest-creds', `${options.creds.username}:${options.creds.password}`);
  args.push(`oci:${layoutDir}:${tag}`, `docker://${registry.host}/${repoAndTag}`);
  await new Promise<void>((resolve, reject) => {
    execFile(SKOPEO_BIN, args, { timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir() } }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`skopeo copy to ${repoAndTag} failed: ${stderr.trim().slice(-2000)}`));
      else resolve();
    });
  });
}

/** Deletes a manifest by digest through the registry API (`Authorization` for token mode). */
export async function deleteManifest(registry: Pick<RunningRegistry, 'url'>, repository: string, digest: string, authorization?: string): Promise<number> {
  const res = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, {
    method: 'DELETE',
    headers: authorization ? { authorization } : {},
  });
  await res.arrayBuffer();
  return res.status;
}

// ---------------------------------------------------------------------------------------------
// token service

/** A user of the token service and the actions it may get on repositories. */
export interface TokenUser {
  password: string;
  /** Repository actions granted (default `['pull']`). */
  actions?: string[];
  /** Whether `registry:catalog:*` is granted. */
  catalog?: boolean;
}

/** Options of {@link startTokenService}. */
export interface TokenServiceOptions {
  users: Record<string, TokenUser>;
  /** `es256-kid` (ES256, `kid` = libtrust fingerprint, the default) or `rs256-x5c` (RS256, `x5c` = [leaf, CA]). */
  keyMode?: 'es256-kid' | 'rs256-x5c';
  service?: string;
  issuer?: string;
  /** `expires_in` of issued tokens (default 300). */
  ttlSeconds?: number;
  /** Repository actions for anonymous requests (default none: an empty grant). */
  anonymousActions?: string[];
}

/** One request the token service received (passwords and tokens left out). */
export interface TokenRequestRecord {
  method: string;
  grantType: string | null;
  service: string | null;
  scopes: string[];
  account: string | null;
  clientId: string | null;
  /** The authenticated user, `''` for anonymous, null when the credentials were refused. */
  user: string | null;
  status: number;
}

/** A running token service. */
export interface TokenService {
  /** `http://127.0.0.1:PORT/token` — the `realm`. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM for the registry's `rootcertbundle`. */
  rootCertBundle: string;
  /** Every request so far, in order. */
  requests: TokenRequestRecord[];
  /** Signs a token for `subject` with `access` claims, as the service would. */
  mint(subject: string, access: Array<{ type: string; name: string; actions: string[] }>, ttlSeconds?: number): Promise<string>;
  /** A refresh token for `user` (as an OAuth2 password grant with `access_type=offline` would give). */
  refreshTokenFor(user: string): string;
  stop(): Promise<void>;
}

/** The registry 2.x (libtrust) key id: base32 of the first 240 bits of sha256(DER SPKI), in groups of 4. */
export function libtrustKeyId(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  const hash = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

/** Starts the token service on a free loopback port; see the module comment. */
export async function startTokenService(options: TokenServiceOptions, owner?: Teardown): Promise<TokenService> {
  if (OPENSSL_BIN === null) throw new Error('openssl is not installed');
  const mode = options.keyMode ?? 'es256-kid';
  const service = options.service ?? 'lookout-test-registry';
  const issuer = options.issuer ?? 'lookout-test-issuer';
  const ttl = options.ttlSeconds ?? 300;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-token-'));
  let signingKey: KeyObject;
  let header: Record<string, unknown>;
  let rootCertBundle: string;
  try {
    if (mode === 'es256-kid') {
      await openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'es256.key']);
      await openssl(dir, ['req', '-x509', '-new', '-key', 'es256.key', '-subj', '/CN=lookout-test-token-es256', '-days', '2', '-out', 'es256.crt']);
      signingKey = createPrivateKey(await readFile(path.join(dir, 'es256.key')));
      rootCertBundle = await readFile(path.join(dir, 'es256.crt'), 'utf8');
      header = { alg: 'ES256', typ: 'JWT', kid: libtrustKeyId(new X509Certificate(rootCertBundle).publicKey) };
    } else {
      await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-subj', '/CN=lookout-test-token-ca', '-days', '2', '-out', 'ca.crt']);
      await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-subj', '/CN=lookout-test-token-leaf', '-out', 'leaf.csr']);
      await openssl(dir, ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'leaf.crt']);
      signingKey = createPrivateKey(await readFile(path.join(dir, 'leaf.key')));
      rootCertBundle = await readFile(path.join(dir, 'ca.crt'), 'utf8');
      const x5c = [await readFile(path.join(dir, 'leaf.crt'), 'utf8'), rootCertBundle].map((pem) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''));
      header = { alg: 'RS256', typ: 'JWT', x5c };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const mint = async (subject: string, access: Array<{ type: string; name: string; actions: string[] }>, ttlSeconds = ttl): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ access })
      .setProtectedHeader(header as { alg: string })
      .setIssuer(issuer)
      .setSubject(subject)
      .setAudience(service) // a string: registry 2.8 refuses an array
      .setIssuedAt(now)
      .setNotBefore(now - 1)
      .setExpirationTime(now + ttlSeconds)
      .setJti(randomBytes(8).toString('hex'))
      .sign(signingKey);
  };

  const grant = (user: string, scopes: string[]): Array<{ type: string; name: string; actions: string[] }> =>
    scopes.flatMap((scope) => {
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first < 0 || last === first) return [];
      const type = scope.slice(0, first).replace(/\(.*\)$/, '');
      const name = scope.slice(first + 1, last);
      const asked = scope.slice(last + 1).split(',').filter(Boolean);
      const u = user === '' ? null : options.users[user];
      const allowed = type === 'repository' ? (u ? (u.actions ?? ['pull']) : (options.anonymousActions ?? [])) : type === 'registry' && u?.catalog ? ['*'] : [];
      return [{ type, name, actions: asked.filter((a) => allowed.includes(a) || allowed.includes('*')) }];
    });

  const refreshTokens = new Map<string, string>();
  const refreshTokenFor = (user: string): string => {
    const token = randomBytes(24).toString('base64url');
    refreshTokens.set(token, user);
    return token;
  };

  const requests: TokenRequestRecord[] = [];
  const server: Server = createServer((req, res) => {
    void handle(req).then(
      ({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });

  const handle = async (req: IncomingMessage): Promise<{ status: number; body: unknown }> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: TokenRequestRecord = { method: req.method ?? '', grantType: null, service: null, scopes: [], account: null, clientId: null, user: null, status: 0 };
    const reply = (status: number, body: unknown): { status: number; body: unknown } => {
      record.status = status;
      requests.push(record);
      return { status, body };
    };
    if (url.pathname !== '/token') return reply(404, { error: 'not found' });
    let user: string | null;
    let offline = false;
    if (req.method === 'GET') {
      record.service = url.searchParams.get('service');
      record.scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      record.account = url.searchParams.get('account');
      record.clientId = url.searchParams.get('client_id');
      offline = url.searchParams.get('offline_token') === 'true';
      const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
      if (!m) user = '';
      else {
        const decoded = Buffer.from(m[1]!, 'base64').toString();
        const colon = decoded.indexOf(':');
        const name = decoded.slice(0, colon);
        user = options.users[name]?.password === decoded.slice(colon + 1) ? name : null;
      }
    } else if (req.method === 'POST') {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      record.grantType = form.get('grant_type');
      record.service = form.get('service');
      record.scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      record.clientId = form.get('client_id');
      offline = form.get('access_type') === 'offline';
      if (record.grantType === 'password') {
        const name = form.get('username') ?? '';
        user = options.users[name]?.password === form.get('password') ? name : null;
      } else if (record.grantType === 'refresh_token') {
        user = refreshTokens.get(form.get('refresh_token') ?? '') ?? null;
      } else return reply(400, { error: 'unsupported_grant_type' });
      if (!record.clientId) return reply(400, { error: 'invalid_request', error_description: 'client_id required' });
    } else return reply(405, { error: 'method not allowed' });
    record.user = user;
    if (user === null) return reply(401, req.method === 'POST' ? { error: 'invalid_grant' } : { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
    if (record.service !== service) return reply(400, { error: `unknown service` });
    const token = await mint(user, grant(user, record.scopes));
    const body: Record<string, unknown> = { token, access_token: token, expires_in: ttl, issued_at: new Date().toISOString() };
    if (offline && user !== '') body.refresh_token = refreshTokenFor(user);
    return reply(200, body);
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const handleOut: TokenService = {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle,
    requests,
    mint,
    refreshTokenFor,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  owner?.teardown(() => handleOut.stop());
  return handleOut;
}

// ---------------------------------------------------------------------------------------------

function openssl(cwd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(OPENSSL_BIN!, args, { cwd, timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`openssl ${args[0]} failed: ${stderr.trim().slice(-500)}`));
      else resolve();
    });
  });
}

/** Registry processes alive and the temp dirs they use, for the exit hook. */
const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function spawnLogged(bin: string, args: string[], logPath: string, dir: string): ChildProcess {
  const fd = openSync(logPath, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd], env: { PATH: process.env.PATH ?? '' } });
  closeSync(fd);
  running.set(child, dir);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // never leave a registry (or its storage) behind when the test worker exits without teardown
    process.once('exit', () => {
      for (const [c, d] of running) {
        if (c.pid !== undefined) c.kill('SIGKILL');
        rmSync(d, { recursive: true, force: true });
      }
    });
  }
  return child;
}

async function waitUntilAnswers(url: string, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await readFile(logPath, 'utf8').catch(() => '');
      throw new Error(`docker-registry exited early: ${log.slice(-1500)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = await readFile(logPath, 'utf8').catch(() => '');
  throw new Error(`docker-registry did not answer ${url} within 15 s: ${log.slice(-1500)}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, 5000);
  await exited;
  clearTimeout(timer);
}
