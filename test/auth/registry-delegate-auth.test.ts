import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { registryDelegateAuthSchema } from '../../src/http/auth/auth-config.ts';
import { registryDelegateAuth } from '../../src/http/auth/registry-delegate-auth.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { OciLayoutBuilder, type BuiltManifest } from '../helpers/oci-image-builder.ts';
import { freePort, HAVE_TOKEN_TOOLS, NO_OPENSSL, pushImage, startRegistry, startTokenService, type RunningRegistry, type TokenService } from '../helpers/registry-harness.ts';
import { startFaultProxy, type FaultProxy } from '../registry/fault-proxy.ts';
import { startAuthTestApp, type AuthTestApp } from './auth-test-app.ts';

interface Context {
  dir: string;
  image: BuiltManifest;
  registry: RunningRegistry;
  tokens: TokenService;
}

const test = anyTest as TestFn<Context>;
const maybe = HAVE_TOKEN_TOOLS ? test : test.skip;
const skipNote = HAVE_TOKEN_TOOLS ? '' : NO_OPENSSL;

const USERS = {
  reader: { password: 'reader-pw-S3cr3t', actions: ['pull'] },
  pusher: { password: 'pusher-pw-S3cr3t', actions: ['pull', 'push'] },
};
const APP = [{ type: 'repository', name: 'team/app', actions: ['pull'] }];

if (HAVE_TOKEN_TOOLS) {
  test.before(async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-auth-oci-'));
    const layout = await OciLayoutBuilder.create(dir);
    const layer = await layout.addLayer([{ path: 'etc/os-release', content: 'ID=delegate-test\n' }]);
    const image = await layout.addImage({ layers: [layer], platform: { os: 'linux', architecture: 'amd64' } });
    await layout.tag('v1', image);
    const tokens = await startTokenService({ users: USERS, keyMode: 'es256-kid' });
    const registry = await startRegistry({ tokenAuth: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle } });
    const creds = { username: 'pusher', password: USERS.pusher.password };
    await pushImage(dir, 'v1', registry, 'team/app:v1', { creds });
    await pushImage(dir, 'v1', registry, 'team/other:v1', { creds });
    t.context = { dir, image, registry, tokens };
  });

  test.after.always(async (t) => {
    await t.context.registry?.stop();
    await t.context.tokens?.stop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

interface Delegate {
  app: AuthTestApp;
  proxy: FaultProxy;
  /** Moves the auth clock forward. */
  advance(ms: number): void;
  /** Access checks that reached the registry. */
  checks(): string[];
}

/** Lookout in delegate mode, asking the real registry through a counting proxy, with a clock the test moves. */
async function delegate(t: ExecutionContext<Context>, overrides: Record<string, unknown> = {}): Promise<Delegate> {
  const proxy = await startFaultProxy(t, t.context.registry.url);
  let offset = 0;
  const config = registryDelegateAuthSchema.parse({ mode: 'registry-delegate', registryUrl: proxy.url, cacheTtlSeconds: 30, ...overrides });
  const app = await startAuthTestApp(t, registryDelegateAuth(config, { logger: createLogger('silent'), now: () => Date.now() + offset }));
  return {
    app,
    proxy,
    advance: (ms) => (offset += ms),
    checks: () => proxy.requests.map((r) => `${r.method} ${r.path}${r.authorization ? ' (auth)' : ''}`),
  };
}

maybe(`a registry token that pulls team/app is allowed by the registry (2xx), and the decision is cached${skipNote}`, async (t) => {
  const d = await delegate(t);
  const token = await t.context.tokens.mint('reader', APP);
  const first = await d.app.get('/read?repository=team/app&reference=v1', `Bearer ${token}`);
  t.is(first.status, 200);
  // the subject is the one the token claims; the registry has just verified that very token
  t.deepEqual(first.body, { repository: 'team/app', subject: 'reader', mode: 'registry-delegate' });
  // again, by digest this time: the decision is per repository, so no new request
  const again = await d.app.get(`/read?repository=team/app&reference=${t.context.image.digest}`, `Bearer ${token}`);
  t.is(again.status, 200);
  t.deepEqual(d.checks(), ['HEAD /v2/team/app/manifests/v1 (auth)']);
  // and after the TTL the registry is asked again
  d.advance(31_000);
  t.is((await d.app.get('/read?repository=team/app&reference=v1', `Bearer ${token}`)).status, 200);
  t.is(d.checks().length, 2);
});

maybe(`401 from the registry denies: the caller gets 401 with the registry's challenge, and the denial is cached too${skipNote}`, async (t) => {
  const d = await delegate(t);
  const token = await t.context.tokens.mint('reader', APP);
  const other = await d.app.get('/read?repository=team/other&reference=v1', `Bearer ${token}`);
  t.is(other.status, 401);
  t.is(other.body.code, 'unauthorized');
  t.is(other.challenge, `Bearer realm="${t.context.tokens.realm}",service="${t.context.tokens.service}",scope="repository:team/other:pull",error="insufficient_scope"`);
  t.is((await d.app.get('/read?repository=team/other&reference=v1', `Bearer ${token}`)).status, 401);
  t.deepEqual(d.checks(), ['HEAD /v2/team/other/manifests/v1 (auth)']);

  // no credentials at all: forwarded without Authorization, the registry's challenge comes back
  const bare = await d.app.get('/read?repository=team/app&reference=v1');
  t.is(bare.status, 401);
  t.is(bare.challenge, `Bearer realm="${t.context.tokens.realm}",service="${t.context.tokens.service}",scope="repository:team/app:pull"`);
  t.is(d.checks()[1], 'HEAD /v2/team/app/manifests/v1');

  // an expired token is refused by the registry, so by Lookout
  const expired = await t.context.tokens.mint('reader', APP, -300);
  t.is((await d.app.get('/read?repository=team/app&reference=v1', `Bearer ${expired}`)).status, 401);
});

maybe(`the cache is per credential: another token for the same repository is asked for again${skipNote}`, async (t) => {
  const d = await delegate(t);
  const a = await t.context.tokens.mint('reader', APP);
  const b = await t.context.tokens.mint('someone-else', APP);
  t.is((await d.app.get('/read?repository=team/app&reference=v1', `Bearer ${a}`)).status, 200);
  t.is((await d.app.get('/read?repository=team/app&reference=v1', `Bearer ${b}`)).status, 200);
  t.is((await d.app.get('/read?repository=team/app&reference=v1', `Bearer ${a}`)).status, 200);
  t.is(d.checks().length, 2);
});

maybe(`concurrent checks of one (credential, repository) share one registry request${skipNote}`, async (t) => {
  const d = await delegate(t);
  const token = await t.context.tokens.mint('reader', APP);
  const answers = await Promise.all(Array.from({ length: 8 }, () => d.app.get('/read?repository=team/app&reference=v1', `Bearer ${token}`)));
  t.deepEqual(answers.map((a) => a.status), Array(8).fill(200));
  t.is(d.checks().length, 1);
});

maybe(`404: an unknown tag is 403 for that tag only; without a reference the tag list is asked${skipNote}`, async (t) => {
  const d = await delegate(t);
  const token = await t.context.tokens.mint('reader', [...APP, { type: 'repository', name: 'team/missing', actions: ['pull'] }]);
  const missingTag = await d.app.get('/read?repository=team/app&reference=no-such-tag', `Bearer ${token}`);
  t.is(missingTag.status, 403);
  t.is(missingTag.body.code, 'forbidden');
  t.is((await d.app.get('/read?repository=team/app&reference=v1', `Bearer ${token}`)).status, 200);
  t.is((await d.app.get('/read?repository=team/missing', `Bearer ${token}`)).status, 403);
  t.is((await d.app.get('/read?repository=team/app', `Bearer ${token}`)).status, 200);
  t.deepEqual(d.checks(), ['HEAD /v2/team/app/manifests/no-such-tag (auth)', 'HEAD /v2/team/app/manifests/v1 (auth)', 'GET /v2/team/missing/tags/list?n=1 (auth)']);
});

maybe(`filterReadable asks the registry once per unknown repository and canRead then knows${skipNote}`, async (t) => {
  const d = await delegate(t);
  const token = await t.context.tokens.mint('reader', APP);
  const res = await d.app.get('/visible?repository=team/app&repository=team/other&repository=NOT_VALID', `Bearer ${token}`);
  t.deepEqual(res.body, { visible: ['team/app'] });
  t.deepEqual(d.checks(), ['GET /v2/team/app/tags/list?n=1 (auth)', 'GET /v2/team/other/tags/list?n=1 (auth)']);
  t.deepEqual((await d.app.get('/visible?repository=team/app&repository=team/other', `Bearer ${token}`)).body, { visible: ['team/app'] });
  t.is(d.checks().length, 2);
});

maybe(`bounded cache: with room for one decision, a second repository pushes the first out${skipNote}`, async (t) => {
  const d = await delegate(t, { cacheMaxEntries: 1 });
  const token = await t.context.tokens.mint('reader', [...APP, { type: 'repository', name: 'team/other', actions: ['pull'] }]);
  for (const repo of ['team/app', 'team/other', 'team/app']) t.is((await d.app.get(`/read?repository=${repo}&reference=v1`, `Bearer ${token}`)).status, 200);
  t.is(d.checks().length, 3);
  const nocache = await delegate(t, { cacheTtlSeconds: 0 });
  for (let i = 0; i < 2; i++) t.is((await nocache.app.get('/read?repository=team/app&reference=v1', `Bearer ${token}`)).status, 200);
  t.is(nocache.checks().length, 2);
});

maybe(`registry trouble is 503 and not cached: 500, 429, nothing listening; bad names never reach it${skipNote}`, async (t) => {
  let fail = true;
  const proxy = await startFaultProxy(t, t.context.registry.url, (req) => (fail ? { kind: 'respond', status: req.url?.includes('other') ? 429 : 500, headers: { 'retry-after': '1' } } : { kind: 'forward' }));
  const config = registryDelegateAuthSchema.parse({ mode: 'registry-delegate', registryUrl: proxy.url });
  const app = await startAuthTestApp(t, registryDelegateAuth(config, { logger: createLogger('silent') }));
  const token = await t.context.tokens.mint('reader', APP);
  const res = await app.get('/read?repository=team/app&reference=v1', `Bearer ${token}`);
  t.is(res.status, 503);
  t.deepEqual(res.body, { code: 'unavailable', message: 'the registry answered 500 to the access check' });
  t.is((await app.get('/read?repository=team/other&reference=v1', `Bearer ${token}`)).status, 503);
  fail = false;
  t.is((await app.get('/read?repository=team/app&reference=v1', `Bearer ${token}`)).status, 200);
  t.is(proxy.requests.length, 3);
  for (const bad of ['/read?repository=team/app&reference=../../x', '/read?repository=..%2Fv2&reference=v1']) {
    t.is((await app.get(bad, `Bearer ${token}`)).status, 400, bad);
  }
  t.is(proxy.requests.length, 3);

  const closed = registryDelegateAuthSchema.parse({ mode: 'registry-delegate', registryUrl: `http://127.0.0.1:${await freePort()}`, timeoutSeconds: 2 });
  const down = await startAuthTestApp(t, registryDelegateAuth(closed, { logger: createLogger('silent') }));
  const gone = await down.get('/read?repository=team/app&reference=v1', `Bearer ${token}`);
  t.deepEqual(gone.body, { code: 'unavailable', message: 'the registry could not be asked for access' });
});
