import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { pino } from 'pino';
import { REGISTRY_DEFAULTS, type RegistryConfig } from '../../src/registry/registry-config.ts';
import { RegistryClient } from '../../src/registry/registry-client.ts';
import { RegistryError } from '../../src/registry/registry-error.ts';
import { OciLayoutBuilder, type BuiltManifest } from '../helpers/oci-image-builder.ts';
import {
  HAVE_TOKEN_TOOLS,
  NO_OPENSSL,
  pushImage,
  startRegistry,
  startTokenService,
  type RunningRegistry,
  type TokenService,
} from '../helpers/registry-harness.ts';
import { startFaultProxy } from './fault-proxy.ts';

interface Setup {
  registry: RunningRegistry;
  tokens: TokenService;
}

interface Context {
  dir: string;
  app: BuiltManifest;
  es256: Setup;
  rs256: Setup;
}

const test = anyTest as TestFn<Context>;
// serial: the tests count requests on shared token services
const maybe = HAVE_TOKEN_TOOLS ? test.serial : test.skip;
const skipNote = HAVE_TOKEN_TOOLS ? '' : NO_OPENSSL;

const USERS = {
  scanner: { password: 'scanner-pw-S3cr3t', actions: ['pull'] },
  pusher: { password: 'pusher-pw-S3cr3t', actions: ['pull', 'push', 'delete'], catalog: true },
};
const PUSHER = { username: 'pusher', password: USERS.pusher.password };

async function setup(mode: 'es256-kid' | 'rs256-x5c', dir: string): Promise<Setup> {
  const tokens = await startTokenService({ users: USERS, keyMode: mode });
  const registry = await startRegistry({ tokenAuth: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle } });
  await pushImage(dir, 'app', registry, 'demo/app:v1', { creds: PUSHER });
  return { registry, tokens };
}

function client(url: string, overrides: Partial<RegistryConfig> = {}, logger?: pino.Logger): RegistryClient {
  return new RegistryClient(
    { name: 'token-registry', url, ...REGISTRY_DEFAULTS, retries: { attempts: 3, baseDelayMs: 10, maxDelayMs: 100 }, ...overrides },
    logger ? { logger } : {},
  );
}

/** Pulls demo/app:v1 completely: manifest, config and every layer, verified. */
async function pullAll(t: ExecutionContext<Context>, c: RegistryClient): Promise<void> {
  const r = await c.resolve('demo/app', 'v1');
  t.is(r.digest, t.context.app.digest);
  const image = r.images[0]!;
  await c.configBlob('demo/app', image.manifest.config);
  for (const layer of image.manifest.layers) {
    const stream = await c.blob('demo/app', layer.digest, { size: layer.size });
    for await (const _ of stream) void _;
  }
}

if (HAVE_TOKEN_TOOLS) {
  test.before(async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-oci-'));
    const layout = await OciLayoutBuilder.create(dir);
    const layer = await layout.addLayer([{ path: 'etc/os-release', content: 'ID=token-test\n' }]);
    const layer2 = await layout.addLayer([{ path: 'opt/x', content: 'x'.repeat(5000) }], { compression: 'zstd' });
    const app = await layout.addImage({ layers: [layer, layer2], platform: { os: 'linux', architecture: 'amd64' } });
    await layout.tag('app', app);
    const [es256, rs256] = await Promise.all([setup('es256-kid', dir), setup('rs256-x5c', dir)]);
    t.context = { dir, app, es256, rs256 };
  });

  test.after.always(async (t) => {
    for (const s of [t.context.es256, t.context.rs256]) {
      await s?.registry.stop();
      await s?.tokens.stop();
    }
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

for (const mode of ['es256', 'rs256'] as const) {
  maybe(`token auth (${mode === 'es256' ? 'ES256, libtrust kid' : 'RS256, x5c chain'}): challenge → token with Basic credentials, cached across requests${skipNote}`, async (t) => {
    const { registry, tokens } = t.context[mode];
    const c = client(registry.url, { username: 'scanner', password: USERS.scanner.password });
    t.teardown(() => c.close());
    const before = tokens.requests.length;
    await pullAll(t, c);
    await pullAll(t, c); // everything again: no new token
    const mine = tokens.requests.slice(before);
    t.deepEqual(mine, [
      {
        method: 'GET',
        grantType: null,
        service: tokens.service,
        scopes: ['repository:demo/app:pull'],
        account: 'scanner',
        clientId: 'lookout',
        user: 'scanner',
        status: 200,
      },
    ]);
  });
}

maybe(`wrong credentials: a clear unauthorized error, one token request, no retry storm${skipNote}`, async (t) => {
  const { registry, tokens } = t.context.es256;
  const proxy = await startFaultProxy(t, registry.url);
  const c = client(proxy.url, { username: 'scanner', password: 'wrong-password' });
  t.teardown(() => c.close());
  const before = tokens.requests.length;
  const err = await t.throwsAsync(c.manifest('demo/app', 'v1'), { instanceOf: RegistryError });
  t.is((err as RegistryError).kind, 'unauthorized');
  t.false((err as RegistryError).retryable);
  t.regex(err!.message, /token service refused the credentials \(401\)/);
  t.deepEqual(tokens.requests.slice(before).map((r) => [r.user, r.status]), [[null, 401]]);
  t.deepEqual(proxy.requests.map((r) => `${r.method} ${r.path}`), ['GET /v2/']);
});

maybe(`insufficient scope (catalog without the grant) is final: unauthorized after one token request${skipNote}`, async (t) => {
  const { registry, tokens } = t.context.es256;
  const proxy = await startFaultProxy(t, registry.url);
  const c = client(proxy.url, { username: 'scanner', password: USERS.scanner.password });
  t.teardown(() => c.close());
  const before = tokens.requests.length;
  const err = await t.throwsAsync(async () => {
    for await (const _ of c.catalog()) void _;
  });
  t.is((err as RegistryError).kind, 'unauthorized');
  t.is(tokens.requests.length - before, 1);
  t.is(proxy.count(/^\/v2\/_catalog/), 1);

  const pusher = client(registry.url, PUSHER);
  t.teardown(() => pusher.close());
  const repositories: string[] = [];
  for await (const r of pusher.catalog()) repositories.push(r);
  t.deepEqual(repositories, ['demo/app']);
});

maybe(`401 invalid_token: the token is fetched again once and the request retried${skipNote}`, async (t) => {
  const { registry, tokens } = t.context.es256;
  const challenge = `Bearer realm="${tokens.realm}",service="${tokens.service}",scope="repository:demo/app:pull",error="invalid_token"`;
  const proxy = await startFaultProxy(t, registry.url, (req, n) =>
    req.url?.includes('/manifests/') && n === 0 ? { kind: 'respond', status: 401, headers: { 'www-authenticate': challenge }, body: '{"errors":[{"code":"UNAUTHORIZED"}]}' } : { kind: 'forward' },
  );
  const c = client(proxy.url, { username: 'scanner', password: USERS.scanner.password });
  t.teardown(() => c.close());
  const before = tokens.requests.length;
  const m = await c.manifest('demo/app', 'v1');
  t.is(m.digest, t.context.app.digest);
  t.is(tokens.requests.length - before, 2);
  t.deepEqual(
    proxy.requests.filter((r) => r.path.includes('/manifests/')).map((r) => [r.authorization, r.action]),
    [
      [true, 'respond'],
      [true, 'forward'],
    ],
  );
});

maybe(`a 401 whose challenge asks for another scope gets a token for both scopes${skipNote}`, async (t) => {
  const { registry, tokens } = t.context.es256;
  const challenge = `Bearer realm="${tokens.realm}",service="${tokens.service}",scope="repository:demo/other:pull",error="insufficient_scope"`;
  const proxy = await startFaultProxy(t, registry.url, (req, n) =>
    req.url?.includes('/manifests/') && n === 0 ? { kind: 'respond', status: 401, headers: { 'www-authenticate': challenge } } : { kind: 'forward' },
  );
  const c = client(proxy.url, { username: 'scanner', password: USERS.scanner.password });
  t.teardown(() => c.close());
  const before = tokens.requests.length;
  await c.manifest('demo/app', 'v1');
  t.deepEqual(
    tokens.requests.slice(before).map((r) => r.scopes),
    [['repository:demo/app:pull'], ['repository:demo/app:pull', 'repository:demo/other:pull']],
  );
});

maybe(`OAuth2: refresh_token grant and password grant by POST${skipNote}`, async (t) => {
  const { registry, tokens } = t.context.rs256;
  const before = tokens.requests.length;
  const refresh = client(registry.url, { refreshToken: tokens.refreshTokenFor('scanner'), clientId: 'lookout-test' });
  t.teardown(() => refresh.close());
  await pullAll(t, refresh);
  const password = client(registry.url, { username: 'scanner', password: USERS.scanner.password, tokenGrant: 'oauth2-password' });
  t.teardown(() => password.close());
  await pullAll(t, password);
  t.deepEqual(
    tokens.requests.slice(before).map((r) => [r.method, r.grantType, r.clientId, r.user, r.scopes.join(' '), r.status]),
    [
      ['POST', 'refresh_token', 'lookout-test', 'scanner', 'repository:demo/app:pull', 200],
      ['POST', 'password', 'lookout', 'scanner', 'repository:demo/app:pull', 200],
    ],
  );
  const bad = client(registry.url, { refreshToken: 'not-a-refresh-token' });
  t.teardown(() => bad.close());
  await t.throwsAsync(bad.manifest('demo/app', 'v1'), { instanceOf: RegistryError, message: /token service refused/ });
});

maybe(`anonymous pull from a token registry gets an empty grant and a clear unauthorized error${skipNote}`, async (t) => {
  const { registry, tokens } = t.context.es256;
  const c = client(registry.url);
  t.teardown(() => c.close());
  const before = tokens.requests.length;
  const err = await t.throwsAsync(c.manifest('demo/app', 'v1'), { instanceOf: RegistryError });
  t.is((err as RegistryError).kind, 'unauthorized');
  t.deepEqual(tokens.requests.slice(before).map((r) => [r.user, r.account]), [['', null]]);
});

maybe(`credentials and tokens never appear in logs or error messages${skipNote}`, async (t) => {
  const { registry, tokens } = t.context.es256;
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  // a 503 on the first blob request with credentials makes the client log a retry
  const proxy = await startFaultProxy(t, registry.url, (req, n) => (req.url?.includes('/blobs/') && n === 0 ? { kind: 'respond', status: 503 } : { kind: 'forward' }));
  const secrets = [USERS.scanner.password, Buffer.from(`scanner:${USERS.scanner.password}`).toString('base64'), 'wrong-S3cr3t', Buffer.from('scanner:wrong-S3cr3t').toString('base64')];
  const messages: string[] = [];
  const good = client(proxy.url, { username: 'scanner', password: USERS.scanner.password }, logger);
  t.teardown(() => good.close());
  await pullAll(t, good);
  const bad = client(proxy.url, { username: 'scanner', password: 'wrong-S3cr3t' }, logger);
  t.teardown(() => bad.close());
  const err = await t.throwsAsync(bad.manifest('demo/app', 'v1'));
  messages.push(String(err?.message), String(err?.stack), JSON.stringify(err));
  const staticToken = await tokens.mint('scanner', [], 1);
  secrets.push(staticToken);
  const stat = client(proxy.url, { bearerToken: staticToken }, logger);
  t.teardown(() => stat.close());
  const err2 = await t.throwsAsync(stat.manifest('demo/app', 'v1'));
  messages.push(String(err2?.message), JSON.stringify(err2));
  t.throws(() => client('http://scanner:url-S3cr3t@127.0.0.1:1'), { message: (m: string) => !m.includes('url-S3cr3t') });

  t.true(lines.some((l) => l.includes('registry request retry')));
  t.true(lines.some((l) => l.includes('registry token fetched')));
  const everything = [...lines, ...messages].join('\n');
  for (const secret of secrets) t.false(everything.includes(secret), 'a secret leaked');
  t.false(/authorization"\s*:/i.test(everything));
  t.false(/Bearer ey|Basic [A-Za-z0-9+/]{8}/.test(everything));
});
