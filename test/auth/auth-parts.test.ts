import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { AppError } from '../../src/errors/app-error.ts';
import { registryTokenAuthSchema } from '../../src/http/auth/auth-config.ts';
import { bearerChallenge } from '../../src/http/auth/bearer-challenge.ts';
import { claimedSubject } from '../../src/http/auth/claimed-subject.ts';
import { jwkThumbprint } from '../../src/http/auth/jwk-thumbprint.ts';
import { libtrustKeyId } from '../../src/http/auth/libtrust-key-id.ts';
import { readCredentials } from '../../src/http/auth/read-credentials.ts';
import { readableRepositories } from '../../src/http/auth/access-claims.ts';
import { TokenRejectedError } from '../../src/http/auth/token-rejected-error.ts';
import { loadTrustedKeys } from '../../src/http/auth/trusted-keys.ts';
import { TtlCache } from '../../src/http/auth/ttl-cache.ts';
import { verifyX5cChain } from '../../src/http/auth/verify-x5c-chain.ts';
import { findExecutable, libtrustKeyId as harnessLibtrustKeyId, OPENSSL_BIN } from '../helpers/registry-harness.ts';
import { makeTestKeys, type TestKeys } from './test-keys.ts';

const test = anyTest as TestFn<{ keys: TestKeys }>;
const HAVE_OPENSSL = OPENSSL_BIN !== null;
const withOpenssl = HAVE_OPENSSL ? test : test.skip;
const noOpenssl = HAVE_OPENSSL ? '' : ' (skipped: openssl is not installed)';
const BASE32_BIN = findExecutable('base32');

if (HAVE_OPENSSL) {
  test.before(async (t) => {
    t.context = { keys: await makeTestKeys() };
  });
}

const DAY = 24 * 3600 * 1000;

test('RFC 7638 §3.1 example: the thumbprint of the example RSA key', (t) => {
  // the key and thumbprint printed in RFC 7638 §3.1
  const n =
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
  const key = createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' });
  t.is(jwkThumbprint(key), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
});

test('jwkThumbprint agrees with jose for RSA, EC (P-256, P-384, P-521) and Ed25519 keys', async (t) => {
  const keys = [
    generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
    ...['P-256', 'P-384', 'P-521'].map((namedCurve) => generateKeyPairSync('ec', { namedCurve }).publicKey),
    generateKeyPairSync('ed25519').publicKey,
  ];
  for (const key of keys) t.is(jwkThumbprint(key), await calculateJwkThumbprint(await exportJWK(key)));
});

test('libtrustKeyId: 12 groups of 4 base32 characters, as the test token service computes it', (t) => {
  for (const key of [generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey]) {
    const id = libtrustKeyId(key);
    t.regex(id, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    t.is(id, harnessLibtrustKeyId(key));
  }
});

(HAVE_OPENSSL && BASE32_BIN !== null ? test : test.skip)(
  `libtrustKeyId equals the openssl | base32 shell pipeline${HAVE_OPENSSL && BASE32_BIN !== null ? '' : ' (skipped: openssl or base32 is not installed)'}`,
  async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-kid-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'c.crt'), t.context.keys.selfSigned.certPem);
    const pipeline = 'openssl x509 -in c.crt -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | head -c 30 | base32 -w0 | tr -d = | fold -w4 | paste -sd:';
    const shell = await new Promise<string>((resolve, reject) =>
      execFile('sh', ['-c', pipeline], { cwd: dir, timeout: 10_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
    );
    t.is(libtrustKeyId(new X509Certificate(t.context.keys.selfSigned.certPem).publicKey), shell);
  },
);

withOpenssl(`x5c: every certificate on the path must be within its dates${noOpenssl}`, (t) => {
  const { leaf, intermediate, ca } = t.context.keys;
  const anchors = [new X509Certificate(ca.certPem)];
  const chain = [leaf.x5c, intermediate.x5c];
  t.is(verifyX5cChain(chain, anchors).asymmetricKeyType, 'ec');
  for (const at of [new Date(Date.now() + 3 * DAY), new Date(Date.now() - DAY)]) {
    const err = t.throws(() => verifyX5cChain(chain, anchors, at), { instanceOf: TokenRejectedError });
    t.is(err!.reason, 'untrusted key');
    t.regex(err!.detail, /outside its validity dates/);
  }
});

withOpenssl(`x5c: malformed headers are refused before any certificate is used${noOpenssl}`, (t) => {
  const { leaf, ca } = t.context.keys;
  const anchors = [new X509Certificate(ca.certPem)];
  // a URL-safe base64 character where the standard alphabet is required (always one: the leaf's
  // own text need not hold a '+' to swap)
  const urlSafe = `${leaf.x5c.slice(0, 10)}-${leaf.x5c.slice(11)}`;
  for (const bad of [[], 'MIIB', [urlSafe], ['AAAA'], Array(9).fill(leaf.x5c), [42]]) {
    const err = t.throws(() => verifyX5cChain(bad, anchors), { instanceOf: TokenRejectedError });
    t.is(err!.reason, 'malformed', JSON.stringify(bad).slice(0, 40));
  }
  // a leaf is not a CA, so it cannot link another certificate to the bundle
  t.throws(() => verifyX5cChain([t.context.keys.rogueLeaf.x5c, leaf.x5c], anchors), { instanceOf: TokenRejectedError });
});

withOpenssl(`trusted keys: every kid form finds the key; bad bundles and JWKS say what is wrong${noOpenssl}`, async (t) => {
  const { selfSigned, ca } = t.context.keys;
  const keys = loadTrustedKeys({ rootCertBundle: `${selfSigned.certPem}\n${ca.certPem}` });
  const publicKey = new X509Certificate(selfSigned.certPem).publicKey;
  t.is(keys.size, 2);
  t.is(keys.anchors.length, 2);
  t.true(keys.keyForKid(libtrustKeyId(publicKey))!.key.equals(publicKey));
  t.true(keys.keyForKid(jwkThumbprint(publicKey))!.key.equals(publicKey));
  t.is(keys.keyForKid('nope'), undefined);
  t.truthy(keys.trustedKey(publicKey));
  t.is(keys.trustedKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), undefined);

  t.throws(() => loadTrustedKeys({ rootCertBundle: 'hello' }), { message: /no PEM CERTIFICATE block/ });
  t.throws(() => loadTrustedKeys({ rootCertBundle: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }), { message: /certificate 0 is not a valid X.509/ });
  t.throws(() => loadTrustedKeys({ jwks: '{' }), { message: /jwks is not valid JSON/ });
  t.throws(() => loadTrustedKeys({ jwks: { keys: [] } }), { message: /non-empty "keys"/ });
  const a = await exportJWK(publicKey);
  const b = await exportJWK(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  t.throws(() => loadTrustedKeys({ jwks: { keys: [{ ...a, kid: 'same' }, { ...b, kid: 'same' }] } }), { message: /kid "same" names two different keys/ });
  // an encryption key is skipped, not trusted
  const enc = loadTrustedKeys({ jwks: { keys: [{ ...a, kid: 'sig' }, { ...b, kid: 'enc', use: 'enc' }] } });
  t.is(enc.size, 1);
  t.is(enc.keyForKid('enc'), undefined);
});

withOpenssl(`registry-token config: HS*, none and unknown algorithms are refused; keys are checked; every problem is listed${noOpenssl}`, (t) => {
  const base = { mode: 'registry-token', realm: 'http://127.0.0.1:1/token', service: 'registry', issuers: 'issuer', rootCertBundle: t.context.keys.ca.certPem };
  const ok = registryTokenAuthSchema.parse(base);
  t.deepEqual(ok.service, ['registry']);
  t.deepEqual(ok.issuers, ['issuer']);
  t.is(ok.leewaySeconds, 60);
  t.false(ok.algorithms.some((a) => a.startsWith('HS')));
  for (const algorithms of [['HS256'], ['none'], ['RS256', 'HS512'], []]) t.false(registryTokenAuthSchema.safeParse({ ...base, algorithms }).success, String(algorithms));
  const bad = registryTokenAuthSchema.safeParse({ ...base, realm: 'ftp://x', rootCertBundle: undefined });
  t.false(bad.success);
  const paths = bad.error!.issues.map((i) => i.path.join('.'));
  t.true(paths.includes('realm'));
  t.false(registryTokenAuthSchema.safeParse({ ...base, rootCertBundle: 'not pem' }).success);
});

test('access claims: pull or * on a repository, exact names; junk is a rejection', (t) => {
  const readable = readableRepositories([
    { type: 'repository', name: 'team/app', actions: ['pull'] },
    { type: 'repository', name: 'team/all', actions: ['*'] },
    { type: 'repository', name: 'team/push', actions: ['push'] },
    { type: 'repository', name: 'team/none', actions: [] },
    { type: 'repository', name: 'team/null', actions: null },
    { type: 'repository(plugin)', name: 'team/plugin', actions: ['pull'] },
    { type: 'registry', name: 'catalog', actions: ['*'] },
    { type: 'repository', name: 'Bad Name', actions: ['pull'] },
    { type: 'repository', name: 'team/extra', actions: ['pull'], class: 'image' },
  ]);
  t.deepEqual([...readable].sort(), ['team/all', 'team/app', 'team/extra']);
  t.deepEqual([...readableRepositories(undefined)], []);
  for (const junk of ['x', [{ type: 'repository' }], [{ type: 1, name: 'a', actions: [] }], Array(2000).fill({ type: 'repository', name: 'a', actions: [] })]) {
    t.throws(() => readableRepositories(junk), { instanceOf: TokenRejectedError });
  }
});

test('readCredentials: schemes, malformed bearer headers', (t) => {
  t.deepEqual(readCredentials(undefined), { kind: 'none' });
  t.deepEqual(readCredentials('bearer abc.def.ghi'), { kind: 'bearer', token: 'abc.def.ghi' });
  t.deepEqual(readCredentials('BEARER   tok  '), { kind: 'bearer', token: 'tok' });
  t.deepEqual(readCredentials('Basic dTpw'), { kind: 'other', value: 'Basic dTpw' });
  for (const bad of ['Bearer', 'Bearer a b', '"quoted"', 'x'.repeat(17 * 1024)]) {
    const err = t.throws(() => readCredentials(bad, { 'WWW-Authenticate': 'Bearer' }), { instanceOf: AppError });
    t.is(err!.status, 401);
    t.deepEqual(err!.headers, { 'WWW-Authenticate': 'Bearer' });
  }
});

test('bearerChallenge: parameters in order, quotes and backslashes escaped, control characters dropped', (t) => {
  t.is(bearerChallenge({}), 'Bearer');
  t.is(bearerChallenge({ error: 'invalid_token', realm: 'https://auth/token', service: 'reg' }), 'Bearer realm="https://auth/token",service="reg",error="invalid_token"');
  t.is(bearerChallenge({ realm: 'a"b\\c\r\nd' }), 'Bearer realm="a\\"b\\\\cd"');
});

test('TtlCache: entries expire, the oldest go first past the limit, ttl 0 keeps nothing', (t) => {
  let now = 1000;
  const cache = new TtlCache<number>({ ttlMs: 100, maxEntries: 2, now: () => now });
  cache.set('a', 1); // lives until 1100
  now = 1050;
  cache.set('b', 2); // until 1150
  t.is(cache.get('a'), 1);
  cache.set('c', 3); // until 1150; over the limit, so a (the oldest) goes
  t.is(cache.size, 2);
  t.is(cache.get('a'), undefined);
  now = 1110;
  t.is(cache.get('b'), 2);
  now = 1160;
  t.is(cache.get('b'), undefined); // expired, dropped when met
  t.is(cache.size, 1);
  cache.set('d', 4); // expired entries at the old end (c) are dropped on write
  t.is(cache.size, 1);
  t.is(cache.get('d'), 4);
  const off = new TtlCache<number>({ ttlMs: 0, maxEntries: 10 });
  off.set('a', 1);
  t.is(off.get('a'), undefined);
  t.is(off.size, 0);
});

test('claimedSubject: the Basic user or a bearer JWT sub, as claimed; nothing for junk', (t) => {
  const basic = (v: string) => ({ kind: 'other' as const, value: `Basic ${Buffer.from(v).toString('base64')}` });
  t.is(claimedSubject(basic('alice:pw:with:colons')), 'alice');
  t.is(claimedSubject(basic(':nouser')), null);
  t.is(claimedSubject(basic('nocolon')), null);
  const jwt = (payload: unknown) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
  t.is(claimedSubject({ kind: 'bearer', token: jwt({ sub: 'bob' }) }), 'bob');
  t.is(claimedSubject({ kind: 'bearer', token: jwt({ sub: 42 }) }), null);
  t.is(claimedSubject({ kind: 'bearer', token: jwt({ sub: 'x'.repeat(300) }) }), null);
  t.is(claimedSubject({ kind: 'bearer', token: 'opaque-token' }), null);
  t.is(claimedSubject({ kind: 'other', value: 'Negotiate abc' }), null);
  t.is(claimedSubject({ kind: 'none' }), null);
});
