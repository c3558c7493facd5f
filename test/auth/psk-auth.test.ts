import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { base64url, SignJWT } from 'jose';
import { pskAuthSchema } from '../../src/http/auth/auth-config.ts';
import { pskAuth } from '../../src/http/auth/psk-auth.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { startAuthTestApp, type AuthTestApp } from './auth-test-app.ts';

const KEY = randomBytes(32);

function app(t: ExecutionContext, overrides: Record<string, unknown> = {}): Promise<AuthTestApp> {
  const config = pskAuthSchema.parse({ mode: 'psk', key: KEY.toString('base64'), ...overrides });
  return startAuthTestApp(t, pskAuth(config, { logger: createLogger('silent') }));
}

/** A token as Quay makes one (`{iss: "quay", exp: now + 5 min}`, HS256), claims overridable (undefined removes). */
function quayToken(claims: Record<string, unknown> = {}, key: Uint8Array = KEY, alg = 'HS256'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { iss: 'quay', exp: now + 300, ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg }).sign(key);
}

test('a valid Quay PSK token grants everything', async (t) => {
  const lookout = await app(t);
  const token = await quayToken();
  const who = await lookout.get('/whoami', `Bearer ${token}`);
  t.is(who.status, 200);
  t.deepEqual(who.body, { mode: 'psk', subject: 'quay', all: true, anonymous: false });
  t.is((await lookout.get('/read?repository=any/repo', `Bearer ${token}`)).status, 200);
  t.deepEqual((await lookout.get('/visible?repository=a/b&repository=c&repository=BAD', `Bearer ${token}`)).body, { visible: ['a/b', 'c'] });
});

const BAD: Array<[string, string, () => Promise<string>]> = [
  ['wrong key', 'bad signature', () => quayToken({}, randomBytes(32))],
  ['wrong issuer', 'untrusted issuer', () => quayToken({ iss: 'someone' })],
  ['no issuer', 'missing claim', () => quayToken({ iss: undefined })],
  ['expired (beyond the 15 s leeway)', 'expired', () => quayToken({ exp: Math.floor(Date.now() / 1000) - 60 })],
  ['no exp', 'missing claim', () => quayToken({ exp: undefined })],
  ['not yet valid', 'not yet valid', () => quayToken({ nbf: Math.floor(Date.now() / 1000) + 120 })],
  ['issued in the future', 'issued in the future', () => quayToken({ iat: Math.floor(Date.now() / 1000) + 120 })],
  ['HS512 with the right key (only HS256 is Quay’s)', 'algorithm not accepted', () => quayToken({}, KEY, 'HS512')],
  [
    'alg none',
    'algorithm not accepted',
    async () => `${base64url.encode('{"alg":"none"}')}.${base64url.encode(JSON.stringify({ iss: 'quay', exp: Math.floor(Date.now() / 1000) + 300 }))}.`,
  ],
  ['garbage', 'malformed', async () => 'a.b.c'],
];

for (const [title, reason, make] of BAD) {
  test(`PSK token refused (401 invalid_token): ${title}`, async (t) => {
    const lookout = await app(t);
    const res = await lookout.get('/whoami', `Bearer ${await make()}`);
    t.is(res.status, 401);
    t.deepEqual(res.body, { code: 'invalid_token', message: `invalid token: ${reason}` });
    t.is(res.challenge, 'Bearer error="invalid_token"');
  });
}

test('leeway: expired 10 s ago passes with the default 15 s, not with 0; other issuers can be allowed', async (t) => {
  const token = await quayToken({ exp: Math.floor(Date.now() / 1000) - 10 });
  t.is((await (await app(t)).get('/whoami', `Bearer ${token}`)).status, 200);
  t.is((await (await app(t, { leewaySeconds: 0 })).get('/whoami', `Bearer ${token}`)).body.message, 'invalid token: expired');
  const clairctl = await quayToken({ iss: 'clairctl' });
  t.is((await (await app(t, { issuers: ['quay', 'clairctl'] })).get('/whoami', `Bearer ${clairctl}`)).status, 200);
});

test('no token, another scheme, or a long junk token: 401 before any route runs', async (t) => {
  const lookout = await app(t);
  const none = await lookout.get('/read?repository=a');
  t.is(none.status, 401);
  t.deepEqual(none.body, { code: 'unauthorized', message: 'authentication required' });
  t.is(none.challenge, 'Bearer');
  t.is((await lookout.get('/whoami', 'Basic cXVheTpzZWNyZXQ=')).status, 401);
  // (past 16 KiB of headers Node's HTTP server itself answers 431)
  const huge = await lookout.get('/whoami', `Bearer ${'a'.repeat(15_000)}`);
  t.is(huge.status, 401);
  t.deepEqual(huge.body, { code: 'invalid_token', message: 'invalid token: malformed' });
});

test('the key must be base64 of at least 16 bytes', (t) => {
  t.false(pskAuthSchema.safeParse({ mode: 'psk', key: 'not base64!' }).success);
  t.false(pskAuthSchema.safeParse({ mode: 'psk', key: randomBytes(8).toString('base64') }).success);
  const ok = pskAuthSchema.parse({ mode: 'psk', key: KEY.toString('base64') });
  t.deepEqual(ok, { mode: 'psk', key: KEY.toString('base64'), issuers: ['quay'], leewaySeconds: 15 });
});
