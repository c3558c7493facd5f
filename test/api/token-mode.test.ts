import anyTest, { type TestFn } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLookout, type Lookout } from '../../src/app/composition-root.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { verifyWebhook } from '../../src/notifier/webhook-signature.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { OciLayoutBuilder, type BuiltManifest } from '../helpers/oci-image-builder.ts';
import { freePort, HAVE_TOKEN_TOOLS, NO_OPENSSL, pushImage, startRegistry, startTokenService, type RunningRegistry, type TokenService } from '../helpers/registry-harness.ts';
import { testConfig } from '../helpers/test-config.ts';
import { startReceiver, type ReceivedRequest } from '../notifier/notifier-harness.ts';

// The whole API in registry-token mode, against Debian's registry in `auth: token` mode and a token
// service made here: pushes reach Lookout, which pulls with its own account through the token
// service; a token that pulls team/app reads team/app and nothing of team/other; subscriptions and
// their deliveries belong to the token's subject and cover only what it may pull.

interface Context {
  db: TestDatabase;
  registry: RunningRegistry;
  tokens: TokenService;
  feeds: FeedServer;
  lookout: Lookout;
  base: string;
  dir: string;
  app: BuiltManifest;
  other: BuiltManifest;
  /** Also vulnerable; pushed after alice's subscription is deleted. */
  later: BuiltManifest;
  /** Requests to alice's and bob's webhook receivers. */
  aliceHooks: ReceivedRequest[];
  bobHooks: ReceivedRequest[];
  aliceHookUrl: string;
  bobHookUrl: string;
  /** What alice's receiver answers next. */
  aliceAnswer: { status: number };
  /** Filled by the tests as they go (an object: each test gets a shallow copy of the context). */
  story: { aliceSubscription?: { id: string; secret: string } };
}

const test = anyTest as TestFn<Context>;
const maybe = HAVE_TOKEN_TOOLS ? test.serial : test.serial.skip;
const note = HAVE_TOKEN_TOOLS ? '' : NO_OPENSSL;
const WEBHOOK_SECRET = 'token-mode-webhook-secret';
const USERS = {
  lookout: { password: 'lookout-pw-S3cr3t', actions: ['pull'], catalog: true },
  pusher: { password: 'pusher-pw-S3cr3t', actions: ['pull', 'push'] },
  alice: { password: 'alice-pw-S3cr3t', actions: ['pull'] },
  bob: { password: 'bob-pw-S3cr3t', actions: ['pull'] },
};
const closers: (() => Promise<void>)[] = [];

const apk = (name: string, version: string, origin: string) => `C:Q1abc=\nP:${name}\nV:${version}\nA:x86_64\no:${origin}\nm:Alpine Maintainers\n`;
const alpineFiles = (packages: string) => [
  { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n' },
  { path: 'etc/apk/repositories', content: 'https://dl-cdn.alpinelinux.org/alpine/v3.19/main\n' },
  { path: 'lib/apk/db/installed', content: packages },
];

if (HAVE_TOKEN_TOOLS) {
  test.before(async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-token-mode-'));
    const layout = await OciLayoutBuilder.create(dir);
    // libssl3 (origin openssl) before 3.1.5-r0 is affected by the advisory served below.
    const app = await layout.addImage({ layers: [await layout.addLayer(alpineFiles(apk('libssl3', '3.1.4-r0', 'openssl')))], platform: { os: 'linux', architecture: 'amd64' } });
    const other = await layout.addImage({ layers: [await layout.addLayer(alpineFiles(apk('libssl3', '3.1.4-r5', 'openssl')))], platform: { os: 'linux', architecture: 'amd64' } });
    const later = await layout.addImage({ layers: [await layout.addLayer(alpineFiles(apk('libssl3', '3.1.4-r1', 'openssl')))], platform: { os: 'linux', architecture: 'amd64' } });
    await layout.tag('app', app);
    await layout.tag('later', later);
    await layout.tag('other', other);

    const feeds = await startFeedServer();
    feeds.set('/alpine/', { body: '<html><a href="v3.19/">v3.19/</a></html>', contentType: 'text/html' });
    feeds.set('/alpine/v3.19/', { body: '<html><a href="main.json">main.json</a></html>', contentType: 'text/html' });
    feeds.set('/alpine/v3.19/main.json', {
      body: JSON.stringify({ distroversion: 'v3.19', reponame: 'main', urlprefix: 'https://dl-cdn.alpinelinux.org/alpine', apkurl: '', archs: ['x86_64'], packages: [{ pkg: { name: 'openssl', secfixes: { '3.1.5-r0': ['CVE-2026-0200'] } } }] }),
    });

    const owner = { teardown: (fn: () => Promise<void>) => void closers.push(fn) };
    const aliceAnswer = { status: 404 };
    const aliceHooks = await startReceiver(owner, (_n, _req, res) => void res.writeHead(aliceAnswer.status).end());
    const bobHooks = await startReceiver(owner, (_n, _req, res) => void res.writeHead(204).end());

    const tokens = await startTokenService({ users: USERS });
    const port = await freePort();
    const registry = await startRegistry({
      tokenAuth: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle },
      notifications: { url: `http://127.0.0.1:${port}/webhooks/distribution/local`, secret: WEBHOOK_SECRET },
    });
    const db = await createTestDatabase('token_mode');
    const config = testConfig(db.url, {
      server: { port },
      registries: [{ name: 'local', url: registry.url, webhookSecret: WEBHOOK_SECRET, username: 'lookout', password: USERS.lookout.password }],
      intake: { debounceSeconds: 0 },
      feeds: { enabled: true, alpine: { url: feeds.url('/alpine/'), options: { releases: ['3.19'], repositories: ['main'] } } },
      auth: { api: { mode: 'registry-token', realm: tokens.realm, service: tokens.service, issuers: tokens.issuer, rootCertBundle: tokens.rootCertBundle } },
      notifier: {
        publicBaseUrl: 'http://lookout.example.test',
        currentImageDays: 0,
        batchWindowSeconds: 0,
        pollIntervalSeconds: 0.2,
        retryBaseSeconds: 0.2,
        allowedWebhookOrigins: [new URL(aliceHooks.url).origin, new URL(bobHooks.url).origin],
      },
    });
    const lookout = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
    const loaded = await lookout.feeds.runNow(['alpine']);
    if (loaded[0]?.state !== 'changed') throw new Error(`alpine feed did not load: ${JSON.stringify(loaded)}`);
    await lookout.start();
    t.context = {
      db,
      registry,
      tokens,
      feeds,
      lookout,
      base: `http://127.0.0.1:${port}`,
      dir,
      app,
      other,
      later,
      aliceHooks: aliceHooks.requests,
      bobHooks: bobHooks.requests,
      aliceHookUrl: aliceHooks.url,
      bobHookUrl: bobHooks.url,
      aliceAnswer,
      story: {},
    };
  });

  test.after.always(async (t) => {
    await t.context.lookout?.stop();
    for (const close of closers) await close();
    await t.context.registry?.stop();
    await t.context.tokens?.stop();
    await t.context.feeds?.close();
    await t.context.db?.drop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

/** A token as a docker client gets one: GET realm?service&scope with Basic credentials. */
async function tokenFor(t: { context: Context }, user: keyof typeof USERS, ...repositories: string[]): Promise<string> {
  const { tokens } = t.context;
  const url = new URL(tokens.realm);
  url.searchParams.set('service', tokens.service);
  for (const r of repositories) url.searchParams.append('scope', `repository:${r}:pull`);
  const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${user}:${USERS[user].password}`).toString('base64')}` } });
  if (res.status !== 200) throw new Error(`token service answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

async function call(t: { context: Context }, method: string, pathname: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${t.context.base}${pathname}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? null : (JSON.parse(text) as any) };
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

maybe(`subscriptions through the API: owned by the token's subject, limited to the repositories the token may pull${note}`, async (t) => {
  const alice = await tokenFor(t, 'alice', 'team/app');
  const bob = await tokenFor(t, 'bob', 'team/other');
  const hook = (url: string) => ({ type: 'webhook', url });

  const anonymous = await call(t, 'POST', '/api/v1/subscriptions', null, { name: 'x', repositories: ['team/**'], channel: hook(t.context.aliceHookUrl) });
  t.is(anonymous.status, 401);
  t.regex(anonymous.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+",service="[^"]+"/);

  const created = await call(t, 'POST', '/api/v1/subscriptions', alice, { name: 'alice-team', repositories: ['team/**'], channel: hook(t.context.aliceHookUrl), minSeverity: 'Unknown', events: ['new-image'] });
  t.is(created.status, 201, JSON.stringify(created.json));
  t.is(created.json.owner, 'alice');
  t.deepEqual(created.json.coveredRepositories, ['team/app'], 'team/** is narrowed to what the token may pull');
  t.regex(created.json.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'a generated secret is shown once');
  t.is(created.headers.get('location'), `/api/v1/subscriptions/${created.json.id}`);
  t.context.story.aliceSubscription = { id: created.json.id, secret: created.json.secret };
  const shown = await call(t, 'GET', `/api/v1/subscriptions/${created.json.id}`, alice);
  t.is(shown.status, 200);
  t.is(shown.json.secret, undefined, 'the secret is never shown again');
  t.true(shown.json.signed);

  const notHers = await call(t, 'POST', '/api/v1/subscriptions', bob, { name: 'bob-app', repositories: ['team/app'], channel: hook(t.context.bobHookUrl) });
  t.is(notHers.status, 403, 'bob may not subscribe to a repository his token cannot pull');
  const elsewhere = await call(t, 'POST', '/api/v1/subscriptions', alice, { name: 'alice-out', repositories: ['team/app'], channel: hook('http://127.0.0.1:9/elsewhere') });
  t.is(elsewhere.status, 403);
  t.is(elsewhere.json.code, 'webhook_target_not_allowed');
  const bad = await call(t, 'POST', '/api/v1/subscriptions', alice, { name: 'bad', repositories: ['team/app'], channel: { type: 'pager' } });
  t.is(bad.status, 400);
  t.is(bad.json.code, 'invalid_subscription');
  const unknown = await call(t, 'POST', '/api/v1/subscriptions', alice, { name: 'bad', repositories: ['team/app'], channel: hook(t.context.aliceHookUrl), extra: 1 });
  t.is(unknown.status, 400, 'unknown keys are refused');

  const bobs = await call(t, 'POST', '/api/v1/subscriptions', bob, { name: 'bob-other', repositories: ['team/other'], channel: hook(t.context.bobHookUrl), minSeverity: 'Unknown', events: ['new-image'] });
  t.is(bobs.status, 201);
  t.deepEqual((await call(t, 'GET', '/api/v1/subscriptions', alice)).json.items.map((s: { name: string }) => s.name), ['alice-team']);
  t.deepEqual((await call(t, 'GET', '/api/v1/subscriptions', bob)).json.items.map((s: { name: string }) => s.name), ['bob-other']);
  t.is((await call(t, 'GET', `/api/v1/subscriptions/${created.json.id}`, bob)).status, 404, "alice's subscription does not exist for bob");
  t.is((await call(t, 'DELETE', `/api/v1/subscriptions/${created.json.id}`, bob)).status, 404);
  t.is((await call(t, 'GET', `/api/v1/subscriptions/${created.json.id}`, alice)).status, 200, 'still there');
});

maybe(`pushes to a token-auth registry reach Lookout, which pulls with its own account through the token service${note}`, async (t) => {
  const { dir, registry, lookout, tokens } = t.context;
  const creds = { username: 'pusher', password: USERS.pusher.password };
  await pushImage(dir, 'app', registry, 'team/app:v1', { creds });
  await pushImage(dir, 'other', registry, 'team/other:v1', { creds });
  await pushImage(dir, 'app', registry, 'team/other:shared', { creds });
  for (const digest of [t.context.app.digest, t.context.other.digest]) {
    const row = await until(`${digest} indexed`, async () => {
      const r = await lookout.images.manifestByDigest(digest);
      return r && (r.status === 'done' || r.status === 'failed') ? r : null;
    });
    t.is(row.status, 'done', row.statusReason ?? '');
  }
  const pulls = tokens.requests.filter((r) => r.user === 'lookout');
  t.true(pulls.some((r) => r.scopes.includes('repository:team/app:pull')), `Lookout asked for team/app with its account: ${JSON.stringify(pulls.map((r) => r.scopes))}`);
  t.true(pulls.every((r) => r.status === 200));
});

maybe(`a team/app token reads team/app's image, tag and list; team/other's image is 404, its tag 401 with the scope to ask for${note}`, async (t) => {
  const { app, other } = t.context;
  const alice = await tokenFor(t, 'alice', 'team/app');

  const none = await call(t, 'GET', `/api/v1/images/${app.digest}`, null);
  t.is(none.status, 401);
  t.regex(none.headers.get('www-authenticate') ?? '', /^Bearer realm=/);

  const mine = await call(t, 'GET', `/api/v1/images/${app.digest}`, alice);
  t.is(mine.status, 200);
  t.is(mine.json.status, 'done');
  t.deepEqual(mine.json.repositories, [{ registry: 'local', repository: 'team/app', tags: ['v1'] }], 'team/other:shared, the same digest, is not shown');
  t.deepEqual(mine.json.report.findings.map((f: { vulnerability: string; package: { name: string } }) => `${f.package.name} ${f.vulnerability}`), ['libssl3 CVE-2026-0200']);

  const theirs = await call(t, 'GET', `/api/v1/images/${other.digest}`, alice);
  t.is(theirs.status, 404, 'an image only in team/other does not exist for this token');
  const bob = await tokenFor(t, 'bob', 'team/other');
  t.is((await call(t, 'GET', `/api/v1/images/${other.digest}`, bob)).status, 200, 'it does for a token that pulls team/other');

  t.is((await call(t, 'GET', '/api/v1/repositories/team/app/tags/v1', alice)).json.digest, app.digest);
  const otherTag = await call(t, 'GET', '/api/v1/repositories/team/other/tags/v1', alice);
  t.is(otherTag.status, 401);
  t.is(otherTag.json.code, 'insufficient_scope');
  t.regex(otherTag.headers.get('www-authenticate') ?? '', /scope="repository:team\/other:pull",error="insufficient_scope"/);

  const list = await call(t, 'GET', '/api/v1/images', alice);
  t.deepEqual(list.json.items.map((i: { digest: string }) => i.digest), [app.digest]);

  const expired = await t.context.tokens.mint('alice', [{ type: 'repository', name: 'team/app', actions: ['pull'] }], -120);
  t.is((await call(t, 'GET', `/api/v1/images/${app.digest}`, expired)).status, 401, 'an expired token is refused');
});

maybe(`a delivery the receiver refused is dead, listed for its owner only, re-driven through the API and then delivered with the same id${note}`, async (t) => {
  const { app } = t.context;
  const alice = await tokenFor(t, 'alice', 'team/app');
  const bob = await tokenFor(t, 'bob', 'team/other');
  const sub = t.context.story.aliceSubscription!;

  // The first report of team/app:v1 found CVE-2026-0200: a new-image notification, refused with 404 (final).
  await until('a request at alice’s receiver', async () => t.context.aliceHooks.length >= 1);
  const dead = await until('the dead delivery', async () => {
    const res = await call(t, 'GET', '/api/v1/notifications?state=dead', alice);
    return res.json.items.length > 0 ? res.json.items : null;
  });
  t.is(dead.length, 1);
  t.is(dead[0].subscriptionId, sub.id);
  t.is(dead[0].attempts, 1, '404 is final at once');
  t.regex(dead[0].lastError, /404/);
  t.is(dead[0].links.retry, `/api/v1/notifications/${dead[0].id}/retry`);

  // Bob's own subscription heard of team/other:v1; alice's delivery is not his to see.
  await until('bob’s delivery', async () => t.context.bobHooks.length >= 1);
  const bobsView = await call(t, 'GET', '/api/v1/notifications', bob);
  t.false(bobsView.json.items.some((d: { id: string }) => d.id === dead[0].id));
  t.true(bobsView.json.items.length >= 1 && bobsView.json.items.every((d: { subscriptionName: string }) => d.subscriptionName === 'bob-other'));
  t.is((await call(t, 'GET', `/api/v1/notifications/${dead[0].id}`, bob)).status, 404);
  t.is((await call(t, 'POST', `/api/v1/notifications/${dead[0].id}/retry`, bob)).status, 404);
  t.is((await call(t, 'GET', `/api/v1/notifications?subscription=${sub.id}`, bob)).status, 404);
  t.is((await call(t, 'GET', '/api/v1/notifications?state=lost', alice)).status, 400);

  t.context.aliceAnswer.status = 204;
  const retried = await call(t, 'POST', `/api/v1/notifications/${dead[0].id}/retry`, alice);
  t.is(retried.status, 202);
  t.is(retried.json.state, 'pending');
  t.is(retried.json.attempts, 0);
  const delivered = await until('the re-driven delivery', async () => {
    const res = await call(t, 'GET', `/api/v1/notifications/${dead[0].id}`, alice);
    return res.json.state === 'delivered' ? res.json : null;
  });
  t.is(delivered.attempts, 1);
  t.is(t.context.aliceHooks.length, 2, 'sent once more, not more');
  const [first, second] = t.context.aliceHooks;
  t.is(second!.headers['webhook-id'], first!.headers['webhook-id'], 'the same idempotency key');
  t.true(verifyWebhook(sub.secret, second!.headers as Record<string, string>, second!.body).ok, 'signed with the secret shown at creation');
  const body = JSON.parse(second!.body);
  t.true(JSON.stringify(body).includes(app.digest));
  t.false(JSON.stringify(body).includes('team/other'), 'the payload names only repositories alice covers');
  t.is((await call(t, 'POST', `/api/v1/notifications/${dead[0].id}/retry`, alice)).status, 409, 'only a dead delivery is re-driven');
});

maybe(`registry-delegate mode: subscriptions list exact repositories, each checked with the registry; the owner is the token's subject${note}`, async (t) => {
  const { db, registry } = t.context;
  // A second Lookout (API role only) on the same database, deciding access by asking the registry.
  const config = testConfig(db.url, {
    roles: ['api'],
    registries: [{ name: 'local', url: registry.url, webhookSecret: WEBHOOK_SECRET, username: 'lookout', password: USERS.lookout.password }],
    auth: { api: { mode: 'registry-delegate', registryUrl: registry.url, cacheTtlSeconds: 0 } },
    notifier: { allowedWebhookOrigins: [new URL(t.context.bobHookUrl).origin] },
  });
  const delegate = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
  const address = await delegate.start();
  t.teardown(() => delegate.stop());
  const at = (pathname: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${address.port}${pathname}`, init);
  const post = (token: string, body: unknown) => at('/api/v1/subscriptions', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const alice = await tokenFor(t, 'alice', 'team/app');
  const channel = { type: 'webhook', url: t.context.bobHookUrl };

  const glob = await post(alice, { name: 'glob', repositories: ['team/**'], channel });
  t.is(glob.status, 400, 'a glob cannot be checked with the registry');
  const refused = await post(alice, { name: 'other', repositories: ['team/app', 'team/other'], channel });
  t.is(refused.status, 401, 'the registry refuses the token for team/other');
  const created = await post(alice, { name: 'exact', repositories: ['team/app'], channel });
  t.is(created.status, 201);
  const body = (await created.json()) as { id: string; owner: string; coveredRepositories: string[] };
  t.is(body.owner, 'alice');
  t.deepEqual(body.coveredRepositories, ['team/app']);

  const list = async (token: string) => ((await (await at('/api/v1/subscriptions', { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { id: string }[] }).items.map((s) => s.id);
  t.true((await list(alice)).includes(body.id));
  // The same subject with a token the registry no longer accepts for the subscription's repository sees nothing.
  const aliceElsewhere = await tokenFor(t, 'alice', 'team/other');
  t.false((await list(aliceElsewhere)).includes(body.id));
  t.false((await list(await tokenFor(t, 'bob', 'team/app'))).includes(body.id), "bob's token reads team/app but the subscription is alice's");
  t.is((await at(`/api/v1/subscriptions/${body.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${alice}` } })).status, 204);
});

maybe(`the owner deletes a subscription; it is gone for the API and for the notifier${note}`, async (t) => {
  const alice = await tokenFor(t, 'alice', 'team/app');
  const sub = t.context.story.aliceSubscription!;
  t.is((await call(t, 'DELETE', `/api/v1/subscriptions/${sub.id}`, alice)).status, 204);
  t.is((await call(t, 'GET', `/api/v1/subscriptions/${sub.id}`, alice)).status, 404);
  t.is((await call(t, 'DELETE', `/api/v1/subscriptions/${sub.id}`, alice)).status, 404);
  t.deepEqual((await call(t, 'GET', '/api/v1/subscriptions', alice)).json.items, []);

  // A new vulnerable image in team/app: its report has the finding, and nobody is told.
  const before = t.context.aliceHooks.length;
  await pushImage(t.context.dir, 'later', t.context.registry, 'team/app:v2', { creds: { username: 'pusher', password: USERS.pusher.password } });
  const status = await until('the later image indexed', async () => {
    const res = await call(t, 'GET', `/api/v1/images/${t.context.later.digest}`, alice);
    return res.status === 200 && res.json.status === 'done' ? res.json : null;
  });
  t.deepEqual(status.report.findings.map((f: { vulnerability: string }) => f.vulnerability), ['CVE-2026-0200']);
  await sleep(1500); // several delivery polls
  t.is(t.context.aliceHooks.length, before);
  const [rows] = await t.context.db.knex('notifications').where({ subscription_id: sub.id }).count<{ count: string }[]>('* as count');
  t.is(Number(rows!.count), 1, 'only the notification from before the delete');
});

maybe(`reconciliation reads the catalog with Lookout's account (registry:catalog:*) and finds nothing missed${note}`, async (t) => {
  const before = t.context.tokens.requests.length;
  const summary = await t.context.lookout.reconciler.reconcile('local');
  t.deepEqual(summary, { repositories: 2, tags: 4, ingested: 0, removed: 0, failed: 0 }, 'every push was announced');
  const asked = t.context.tokens.requests.slice(before);
  t.true(asked.some((r) => r.user === 'lookout' && r.scopes.includes('registry:catalog:*') && r.status === 200));
});
