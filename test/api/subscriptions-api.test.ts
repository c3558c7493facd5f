import anyTest, { type TestFn } from 'ava';
import { buildLookout, type Lookout } from '../../src/app/composition-root.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { testConfig } from '../helpers/test-config.ts';

// Subscriptions through the API for callers with access to everything (an API key): every
// subscription visible, config ones read-only, input checked, limits kept.

interface Context {
  db: TestDatabase;
  lookout: Lookout;
  base: string;
}

const test = anyTest as TestFn<Context>;
const KEY = 'subscriptions-api-key-0123456789';

test.before(async (t) => {
  const db = await createTestDatabase('subscriptions_api');
  const config = testConfig(db.url, {
    roles: ['api'],
    registries: [{ name: 'local', url: 'http://127.0.0.1:9', webhookSecret: 'unused-secret-0123' }],
    auth: { api: { mode: 'api-key', keys: [KEY] } },
    notifier: { allowedWebhookOrigins: ['*'], maxSubscriptionsPerOwner: 2 },
    subscriptions: [{ name: 'from-config', repositories: ['**'], channel: { type: 'email', recipients: ['ops@example.test'] } }],
  });
  const lookout = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
  const address = await lookout.start();
  t.context = { db, lookout, base: `http://127.0.0.1:${address.port}` };
});

test.after.always(async (t) => {
  await t.context.lookout?.stop();
  await t.context.db?.drop();
});

async function call(t: { context: Context }, method: string, pathname: string, body?: unknown, key: string | null = KEY) {
  const headers: Record<string, string> = {};
  if (key !== null) headers['x-scanneradapter-api-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${t.context.base}${pathname}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as any) };
}

test.serial('an API key sees every subscription, those from the config file too, which cannot be deleted', async (t) => {
  t.is((await call(t, 'GET', '/api/v1/subscriptions', undefined, null)).status, 401);
  const list = await call(t, 'GET', '/api/v1/subscriptions');
  t.is(list.status, 200);
  const fromConfig = list.json.items.find((s: { name: string }) => s.name === 'from-config');
  t.like(fromConfig, { origin: 'config', owner: null, repositories: ['**'], coveredRepositories: null, channel: { type: 'email', recipients: ['ops@example.test'] }, signed: false });
  const del = await call(t, 'DELETE', `/api/v1/subscriptions/${fromConfig.id}`);
  t.is(del.status, 409);
  t.is(del.json.code, 'config_subscription');
  t.is((await call(t, 'GET', `/api/v1/subscriptions/${fromConfig.id}`)).status, 200);
});

test.serial('a webhook with its own secret, an email subscription; any origin when "*" is configured; no limit on repositories', async (t) => {
  const hook = await call(t, 'POST', '/api/v1/subscriptions', { name: 'hook', repositories: ['team/*'], registry: 'local', channel: { type: 'webhook', url: 'https://hooks.example.test/lookout', secret: 'a-secret-of-the-callers-own' }, minSeverity: 'High', events: ['newly-affected', 'newly-affected'] });
  t.is(hook.status, 201, JSON.stringify(hook.json));
  t.is(hook.json.secret, undefined, 'a secret the caller gave is not echoed');
  t.like(hook.json, { registry: 'local', coveredRepositories: null, minSeverity: 'High', events: ['newly-affected'], signed: true });
  const mail = await call(t, 'POST', '/api/v1/subscriptions', { name: 'mail', repositories: ['team/app'], channel: { type: 'email', recipients: ['a@example.test', 'a@example.test'] } });
  t.is(mail.status, 201);
  t.deepEqual(mail.json.channel.recipients, ['a@example.test']);
  t.deepEqual(mail.json.events, ['new-image', 'newly-affected', 'fix-available', 'resolved'], 'the default events');
  t.is(mail.json.secret, undefined);
  const third = await call(t, 'POST', '/api/v1/subscriptions', { name: 'third', repositories: ['x'], channel: { type: 'email', recipients: ['a@example.test'] } });
  t.is(third.status, 409, 'at most maxSubscriptionsPerOwner');
  t.is(third.json.code, 'too_many_subscriptions');
  t.is((await call(t, 'DELETE', `/api/v1/subscriptions/${mail.json.id}`)).status, 204);
  t.is((await call(t, 'GET', `/api/v1/subscriptions/${mail.json.id}`)).status, 404);
});

test.serial('bad input is a 400 with the reason, never stored', async (t) => {
  const before = (await call(t, 'GET', '/api/v1/subscriptions')).json.items.length;
  const cases: Array<[unknown, RegExp]> = [
    [{ name: 'r', repositories: ['a'], registry: 'nowhere', channel: { type: 'email', recipients: ['a@example.test'] } }, /registry nowhere is not configured/],
    [{ name: 'r', repositories: ['Team/App'], channel: { type: 'email', recipients: ['a@example.test'] } }, /repositories\.0/],
    [{ name: 'r', repositories: [], channel: { type: 'email', recipients: ['a@example.test'] } }, /repositories/],
    [{ name: 'r', repositories: ['a'], channel: { type: 'email', recipients: ['not-an-address'] } }, /channel\.recipients\.0/],
    [{ name: 'r', repositories: ['a'], channel: { type: 'webhook', url: 'ftp://example.test/' } }, /channel\.url/],
    [{ name: 'r', repositories: ['a'], channel: { type: 'webhook', url: 'https://user:pw@example.test/' } }, /must not carry credentials/],
    [{ name: 'r', repositories: ['a'], channel: { type: 'webhook', url: 'https://example.test/', secret: 'short' } }, /channel\.secret/],
    [{ name: 'r', repositories: ['a'], channel: { type: 'email', recipients: ['a@example.test'] }, minSeverity: 'Dire' }, /minSeverity/],
    [{ name: 'r', repositories: ['a'], channel: { type: 'email', recipients: ['a@example.test'] }, events: ['everything'] }, /events\.0/],
    [{ name: '../r', repositories: ['a'], channel: { type: 'email', recipients: ['a@example.test'] } }, /name/],
    [{ name: 'r', repositories: Array.from({ length: 51 }, (_, i) => `r${i}`), channel: { type: 'email', recipients: ['a@example.test'] } }, /repositories/],
  ];
  for (const [body, reason] of cases) {
    const res = await call(t, 'POST', '/api/v1/subscriptions', body);
    t.is(res.status, 400, JSON.stringify(body));
    t.regex(res.json.message, reason);
  }
  const notJson = await call(t, 'POST', '/api/v1/subscriptions', '{"name":');
  t.is(notJson.status, 400);
  t.is(notJson.json.code, 'invalid_json');
  const huge = await call(t, 'POST', '/api/v1/subscriptions', JSON.stringify({ name: 'x'.repeat(2_000_000) }));
  t.is(huge.status, 413);
  t.is((await call(t, 'GET', '/api/v1/subscriptions')).json.items.length, before);
  t.is((await call(t, 'GET', '/api/v1/subscriptions/not-a-uuid')).status, 404);
  t.is((await call(t, 'GET', '/api/v1/notifications?limit=0')).status, 400);
  t.is((await call(t, 'GET', '/api/v1/notifications/00000000-0000-0000-0000-000000000000')).status, 404);
  t.deepEqual((await call(t, 'GET', '/api/v1/notifications?state=dead')).json, { items: [], next: null });
});
