import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { calculateJwkThumbprint, exportJWK, SignJWT, base64url } from 'jose';
import { registryTokenAuthSchema } from '../../src/http/auth/auth-config.ts';
import { jwkThumbprint } from '../../src/http/auth/jwk-thumbprint.ts';
import { libtrustKeyId } from '../../src/http/auth/libtrust-key-id.ts';
import { registryTokenAuth } from '../../src/http/auth/registry-token-auth.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { MANIFEST_ACCEPT } from '../../src/registry/media-types.ts';
import { parseWwwAuthenticate } from '../../src/registry/www-authenticate.ts';
import { OciLayoutBuilder } from '../helpers/oci-image-builder.ts';
import { HAVE_TOKEN_TOOLS, NO_OPENSSL, pushImage, startRegistry, startTokenService, type RunningRegistry, type TokenService } from '../helpers/registry-harness.ts';
import { startAuthTestApp, type AuthTestApp } from './auth-test-app.ts';
import { makeTestKeys, type TestKeys } from './test-keys.ts';

interface Context {
  dir: string;
  registry: RunningRegistry;
  /** ES256 tokens with the libtrust kid. */
  es: TokenService;
  /** RS256 tokens with an x5c chain [leaf, CA]. */
  rs: TokenService;
  keys: TestKeys;
  /** Every certificate both the registry and Lookout trust. */
  bundle: string;
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
    const layer = await layout.addLayer([{ path: 'etc/os-release', content: 'ID=auth-test\n' }]);
    await layout.tag('v1', await layout.addImage({ layers: [layer], platform: { os: 'linux', architecture: 'amd64' } }));
    const [es, rs, keys] = await Promise.all([
      startTokenService({ users: USERS, keyMode: 'es256-kid' }),
      startTokenService({ users: USERS, keyMode: 'rs256-x5c' }),
      makeTestKeys(),
    ]);
    // both token services use the same issuer and service names, so one registry trusts both
    const bundle = [es.rootCertBundle, rs.rootCertBundle, keys.selfSigned.certPem, keys.ca.certPem].join('\n');
    const registry = await startRegistry({ tokenAuth: { realm: es.realm, service: es.service, issuer: es.issuer, rootCertBundle: bundle } });
    const creds = { username: 'pusher', password: USERS.pusher.password };
    await pushImage(dir, 'v1', registry, 'team/app:v1', { creds });
    await pushImage(dir, 'v1', registry, 'team/other:v1', { creds });
    t.context = { dir, registry, es, rs, keys, bundle };
  });

  test.after.always(async (t) => {
    await t.context.registry?.stop();
    await t.context.es?.stop();
    await t.context.rs?.stop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

/** Lookout in registry-token mode, trusting what the registry trusts (plus `overrides`). */
function lookout(t: ExecutionContext<Context>, overrides: Record<string, unknown> = {}): Promise<AuthTestApp> {
  const { es, bundle } = t.context;
  const config = registryTokenAuthSchema.parse({ mode: 'registry-token', realm: es.realm, service: es.service, issuers: es.issuer, rootCertBundle: bundle, ...overrides });
  return startAuthTestApp(t, registryTokenAuth(config, { logger: createLogger('silent') }));
}

/** A token as a docker client gets one: GET realm?service&scope with Basic credentials. */
async function tokenFrom(service: TokenService, scope: string, user: 'reader' | 'pusher' | null = 'reader'): Promise<string> {
  const url = new URL(service.realm);
  url.searchParams.set('service', service.service);
  url.searchParams.set('scope', scope);
  const headers: Record<string, string> = {};
  if (user !== null) headers.authorization = `Basic ${Buffer.from(`${user}:${USERS[user].password}`).toString('base64')}`;
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`token service answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/** What the real registry answers to HEAD /v2/<repo>/manifests/v1 with this bearer token. */
async function registryStatus(t: ExecutionContext<Context>, token: string | null, repository = 'team/app'): Promise<{ status: number; challenge: string | null }> {
  const headers: Record<string, string> = { accept: MANIFEST_ACCEPT };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${t.context.registry.url}/v2/${repository}/manifests/v1`, { method: 'HEAD', headers });
  return { status: res.status, challenge: res.headers.get('www-authenticate') };
}

/** Signs a token with our own key: standard claims for team/app unless overridden (undefined removes). */
async function sign(t: ExecutionContext<Context>, key: KeyObject, header: Record<string, unknown>, claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { iss: t.context.es.issuer, aud: t.context.es.service, sub: 'own', access: APP, iat: now, nbf: now - 1, exp: now + 300, jti: 'j1', ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);
}

function selfKid(t: ExecutionContext<Context>): string {
  return libtrustKeyId(new X509Certificate(t.context.keys.selfSigned.certPem).publicKey);
}

for (const mode of ['es', 'rs'] as const) {
  maybe(`${mode === 'es' ? 'ES256 with a libtrust kid' : 'RS256 with an x5c chain'}: the token that pulls team/app from the registry reads team/app and is refused for team/other${skipNote}`, async (t) => {
    const app = await lookout(t);
    const token = await tokenFrom(t.context[mode], 'repository:team/app:pull');
    t.is((await registryStatus(t, token)).status, 200);
    const ok = await app.get('/read?repository=team/app', `Bearer ${token}`);
    t.is(ok.status, 200);
    t.deepEqual(ok.body, { repository: 'team/app', subject: 'reader', mode: 'registry-token' });

    // the registry refuses the same token for team/other, and so does Lookout, with the scope to ask for
    const registryOther = await registryStatus(t, token, 'team/other');
    t.is(registryOther.status, 401);
    const other = await app.get('/read?repository=team/other', `Bearer ${token}`);
    t.is(other.status, 401);
    t.is(other.body.code, 'insufficient_scope');
    t.is(other.challenge, `Bearer realm="${t.context.es.realm}",service="${t.context.es.service}",scope="repository:team/other:pull",error="insufficient_scope"`);
    t.is(other.challenge, registryOther.challenge);
  });
}

maybe(`a request without a token gets the registry's own challenge; a docker-style client follows it and reads${skipNote}`, async (t) => {
  const app = await lookout(t);
  const bare = await app.get('/read?repository=team/app');
  t.is(bare.status, 401);
  t.is(bare.body.code, 'unauthorized');
  t.is(bare.challenge, `Bearer realm="${t.context.es.realm}",service="${t.context.es.service}",scope="repository:team/app:pull"`);
  t.is(bare.challenge, (await registryStatus(t, null)).challenge);

  // follow the challenge as docker does: realm?service=…&scope=… with Basic credentials
  const params = parseWwwAuthenticate(bare.challenge)[0]!.params;
  const url = new URL(params.realm!);
  url.searchParams.set('service', params.service!);
  url.searchParams.set('scope', params.scope!);
  const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`reader:${USERS.reader.password}`).toString('base64')}` } });
  const { token } = (await res.json()) as { token: string };
  t.is((await app.get('/read?repository=team/app', `Bearer ${token}`)).status, 200);

  // a route that names no repository challenges without a scope
  const who = await app.get('/whoami');
  t.is(who.status, 401);
  t.is(who.challenge, `Bearer realm="${t.context.es.realm}",service="${t.context.es.service}"`);
  const me = await app.get('/whoami', `Bearer ${token}`);
  t.deepEqual(me.body, { mode: 'registry-token', subject: 'reader', all: false, anonymous: false });
});

maybe(`an anonymous token (no actions granted) and a Basic header read nothing${skipNote}`, async (t) => {
  const app = await lookout(t);
  const anonymous = await tokenFrom(t.context.es, 'repository:team/app:pull', null);
  t.is((await registryStatus(t, anonymous)).status, 401);
  const res = await app.get('/read?repository=team/app', `Bearer ${anonymous}`);
  t.is(res.status, 401);
  t.is(res.body.code, 'insufficient_scope');
  const basic = await app.get('/read?repository=team/app', `Basic ${Buffer.from(`reader:${USERS.reader.password}`).toString('base64')}`);
  t.is(basic.status, 401);
  t.is(basic.body.code, 'unauthorized');
  t.regex(basic.challenge ?? '', /scope="repository:team\/app:pull"$/);
});

maybe(`a token with actions ["*"] reads; with ["push"] only it does not; several repositories in one token${skipNote}`, async (t) => {
  const app = await lookout(t);
  const star = await sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) }, { access: [{ type: 'repository', name: 'team/app', actions: ['*'] }] });
  t.is((await registryStatus(t, star)).status, 200);
  t.is((await app.get('/read?repository=team/app', `Bearer ${star}`)).status, 200);
  const push = await sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) }, { access: [{ type: 'repository', name: 'team/app', actions: ['push'] }] });
  t.is((await registryStatus(t, push)).status, 401);
  t.is((await app.get('/read?repository=team/app', `Bearer ${push}`)).status, 401);
  const both = await tokenFrom(t.context.es, 'repository:team/app:pull repository:team/other:pull');
  const visible = await app.get('/visible?repository=team/app&repository=team/other&repository=team/third&repository=Bad..Name', `Bearer ${both}`);
  t.deepEqual(visible.body, { visible: ['team/app', 'team/other'] });
  // the repository name is checked before anything else
  const bad = await app.get('/read?repository=../etc', `Bearer ${both}`);
  t.is(bad.status, 400);
  t.is(bad.body.code, 'invalid_repository');
});

/** Bad tokens: what Lookout says (401 invalid_token, with the reason) and what the registry says. */
const BAD: Array<{ title: string; reason: string; registry: number; make(t: ExecutionContext<Context>): Promise<string> }> = [
  { title: 'expired (2 minutes ago, beyond the 60 s leeway)', reason: 'expired', registry: 401, make: (t) => t.context.es.mint('reader', APP, -120) },
  {
    title: 'not yet valid (nbf in 5 minutes)',
    reason: 'not yet valid',
    registry: 401,
    make: (t) => sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) }, { nbf: Math.floor(Date.now() / 1000) + 300 }),
  },
  {
    title: 'forged: signed by another key under the token service kid',
    reason: 'bad signature',
    registry: 401,
    make: (t) => {
      const kid = libtrustKeyId(new X509Certificate(t.context.es.rootCertBundle).publicKey);
      return sign(t, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { alg: 'ES256', kid });
    },
  },
  {
    title: 'signed by an untrusted key under its own kid',
    reason: 'untrusted key',
    registry: 401,
    make: (t) => {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return sign(t, pair.privateKey, { alg: 'ES256', kid: libtrustKeyId(pair.publicKey) });
    },
  },
  {
    title: 'tampered: a real token whose access claim was widened',
    reason: 'bad signature',
    registry: 401,
    make: async (t) => {
      const [h, , s] = (await t.context.es.mint('reader', APP)).split('.');
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: t.context.es.issuer, aud: t.context.es.service, sub: 'reader', exp: now + 300, access: [{ type: 'repository', name: 'team/app', actions: ['*'] }] };
      return `${h}.${base64url.encode(JSON.stringify(claims))}.${s}`;
    },
  },
  {
    title: 'alg none with the token service kid',
    reason: 'algorithm not accepted',
    registry: 401,
    make: async (t) => {
      const real = await t.context.es.mint('reader', APP);
      const kid = libtrustKeyId(new X509Certificate(t.context.es.rootCertBundle).publicKey);
      return `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid }))}.${real.split('.')[1]}.`;
    },
  },
  {
    title: 'HS256 "signed" with the token service public key (PEM) under its kid',
    reason: 'algorithm not accepted',
    registry: 401,
    make: (t) => {
      const publicKey = new X509Certificate(t.context.es.rootCertBundle).publicKey;
      const secret = Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }) as string);
      return sign(t, secret as unknown as KeyObject, { alg: 'HS256', kid: libtrustKeyId(publicKey) });
    },
  },
  {
    title: 'HS256 "signed" with the bundle certificate bytes under an x5c header',
    reason: 'algorithm not accepted',
    registry: 401,
    make: (t) => sign(t, Buffer.from(t.context.keys.selfSigned.certPem) as unknown as KeyObject, { alg: 'HS256', x5c: [t.context.keys.selfSigned.x5c] }),
  },
  {
    title: 'ES384 claimed for a P-256 key',
    reason: 'bad signature',
    registry: 401,
    make: async (t) => {
      const good = await sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) });
      const [, p, s] = good.split('.');
      return `${base64url.encode(JSON.stringify({ alg: 'ES384', kid: selfKid(t) }))}.${p}.${s}`;
    },
  },
  { title: 'wrong aud', reason: 'wrong audience', registry: 401, make: (t) => sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) }, { aud: 'another-registry' }) },
  { title: 'wrong iss', reason: 'untrusted issuer', registry: 401, make: (t) => sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) }, { iss: 'evil-issuer' }) },
  { title: 'no exp', reason: 'missing claim', registry: 401, make: (t) => sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) }, { exp: undefined }) },
  { title: 'no key named (no x5c, jwk or kid)', reason: 'untrusted key', registry: 401, make: (t) => sign(t, t.context.keys.selfSigned.key, { alg: 'ES256' }) },
  { title: 'an access claim that is not a list', reason: 'invalid claims', registry: 401, make: (t) => sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) }, { access: 'team/app:pull' }) },
  { title: 'not a JWT at all', reason: 'malformed', registry: 401, make: async () => 'not.a.jwt' },
];

for (const bad of BAD) {
  maybe(`bad token, refused by the registry and by Lookout (401 invalid_token): ${bad.title}${skipNote}`, async (t) => {
    const app = await lookout(t);
    const token = await bad.make(t);
    t.is((await registryStatus(t, token)).status, bad.registry);
    const res = await app.get('/read?repository=team/app', `Bearer ${token}`);
    t.is(res.status, 401);
    t.deepEqual(res.body, { code: 'invalid_token', message: `invalid token: ${bad.reason}` });
    t.is(res.challenge, `Bearer realm="${t.context.es.realm}",service="${t.context.es.service}",error="invalid_token"`);
  });
}

maybe(`leeway: a token expired 30 s ago is still good for both; the leeway is configurable${skipNote}`, async (t) => {
  const token = await t.context.es.mint('reader', APP, -30);
  t.is((await registryStatus(t, token)).status, 200);
  t.is((await (await lookout(t)).get('/read?repository=team/app', `Bearer ${token}`)).status, 200);
  const strict = await lookout(t, { leewaySeconds: 5 });
  t.is((await strict.get('/read?repository=team/app', `Bearer ${token}`)).body.message, 'invalid token: expired');
});

maybe(`kid in the RFC 7638 thumbprint form (registry 3.x) works; registry 2.8 knows only the libtrust form${skipNote}`, async (t) => {
  const publicKey = new X509Certificate(t.context.keys.selfSigned.certPem).publicKey;
  const thumbprint = jwkThumbprint(publicKey);
  t.is(thumbprint, await calculateJwkThumbprint(await exportJWK(publicKey)));
  const token = await sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: thumbprint });
  t.is((await registryStatus(t, token)).status, 401);
  const res = await (await lookout(t)).get('/read?repository=team/app', `Bearer ${token}`);
  t.is(res.status, 200);
  t.is(res.body.subject, 'own');
  // the libtrust form of the same key is what 2.8 accepts, and so does Lookout
  const libtrust = await sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: libtrustKeyId(publicKey) });
  t.is((await registryStatus(t, libtrust)).status, 200);
  t.is((await (await lookout(t)).get('/read?repository=team/app', `Bearer ${libtrust}`)).status, 200);
});

maybe(`jwk header: a trusted key is accepted (as the registry does), an untrusted one is not${skipNote}`, async (t) => {
  const app = await lookout(t);
  const jwk = createPublicKey(t.context.keys.selfSigned.key).export({ format: 'jwk' });
  const trusted = await sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', jwk });
  t.is((await registryStatus(t, trusted)).status, 200);
  t.is((await app.get('/read?repository=team/app', `Bearer ${trusted}`)).status, 200);
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const untrusted = await sign(t, stranger.privateKey, { alg: 'ES256', jwk: stranger.publicKey.export({ format: 'jwk' }) });
  t.is((await registryStatus(t, untrusted)).status, 401);
  t.is((await app.get('/read?repository=team/app', `Bearer ${untrusted}`)).body.message, 'invalid token: untrusted key');
  // a jwk header wins over a kid naming a trusted key (lookup order x5c → jwk → kid)
  const mixed = await sign(t, stranger.privateKey, { alg: 'ES256', jwk: stranger.publicKey.export({ format: 'jwk' }), kid: selfKid(t) });
  t.is((await app.get('/read?repository=team/app', `Bearer ${mixed}`)).body.message, 'invalid token: untrusted key');
});

maybe(`x5c: a chain through an intermediate to a bundle CA is accepted, with or without the CA; broken chains are not${skipNote}`, async (t) => {
  const app = await lookout(t);
  const { leaf, intermediate, ca, rogueLeaf, rogueCa, selfSigned } = t.context.keys;
  const cases: Array<[string, KeyObject, string[], number, string | null]> = [
    ['leaf + intermediate', leaf.key, [leaf.x5c, intermediate.x5c], 200, null],
    ['leaf + intermediate + CA', leaf.key, [leaf.x5c, intermediate.x5c, ca.x5c], 200, null],
    ['a bundle certificate itself', selfSigned.key, [selfSigned.x5c], 200, null],
    ['leaf without its intermediate', leaf.key, [leaf.x5c], 401, 'untrusted key'],
    ['rogue CA with the trusted CA subject', rogueLeaf.key, [rogueLeaf.x5c, rogueCa.x5c], 401, 'untrusted key'],
    ['good chain, signed by another key', rogueLeaf.key, [leaf.x5c, intermediate.x5c], 401, 'bad signature'],
    ['intermediate used as leaf signer without CA path', intermediate.key, [intermediate.x5c], 200, null],
  ];
  for (const [title, key, x5c, status, reason] of cases) {
    const token = await sign(t, key, { alg: 'ES256', x5c });
    t.is((await registryStatus(t, token)).status, status, `registry: ${title}`);
    const res = await app.get('/read?repository=team/app', `Bearer ${token}`);
    t.is(res.status, status, `lookout: ${title}`);
    if (reason !== null) t.is(res.body.message, `invalid token: ${reason}`, title);
  }
});

maybe(`configured algorithms are the only ones accepted${skipNote}`, async (t) => {
  const rsOnly = await lookout(t, { algorithms: ['RS256'] });
  const es = await t.context.es.mint('reader', APP);
  t.is((await rsOnly.get('/read?repository=team/app', `Bearer ${es}`)).body.message, 'invalid token: algorithm not accepted');
  const rs = await t.context.rs.mint('reader', APP);
  t.is((await rsOnly.get('/read?repository=team/app', `Bearer ${rs}`)).status, 200);
});

maybe(`aud may be a list (registry 3.x; registry 2.8 refuses it) and several services may be accepted${skipNote}`, async (t) => {
  const app = await lookout(t);
  const listed = await sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) }, { aud: ['x', t.context.es.service] });
  t.is((await registryStatus(t, listed)).status, 401);
  t.is((await app.get('/read?repository=team/app', `Bearer ${listed}`)).status, 200);
  const other = await sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) }, { aud: 'mirror-registry' });
  const two = await lookout(t, { service: [t.context.es.service, 'mirror-registry'], issuers: [t.context.es.issuer, 'mirror-issuer'] });
  t.is((await two.get('/read?repository=team/app', `Bearer ${other}`)).status, 200);
  const mirrorIssued = await sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: selfKid(t) }, { iss: 'mirror-issuer' });
  t.is((await two.get('/read?repository=team/app', `Bearer ${mirrorIssued}`)).status, 200);
  // the challenge names the first service
  t.regex((await two.get('/read?repository=team/app')).challenge ?? '', new RegExp(`service="${t.context.es.service}"`));
});

maybe(`JWKS keys: by their own kid (alg enforced), EdDSA included; private or symmetric JWKs are refused at configuration${skipNote}`, async (t) => {
  const ed = generateKeyPairSync('ed25519');
  const ec = createPublicKey(t.context.keys.selfSigned.key);
  const jwks = {
    keys: [
      { ...(await exportJWK(ed.publicKey)), kid: 'ed-1', use: 'sig' },
      { ...(await exportJWK(ec)), kid: 'ec-384-only', alg: 'ES384' },
    ],
  };
  const app = await lookout(t, { rootCertBundle: undefined, jwks: JSON.stringify(jwks) });
  const edToken = await sign(t, ed.privateKey, { alg: 'EdDSA', kid: 'ed-1' });
  t.is((await app.get('/read?repository=team/app', `Bearer ${edToken}`)).status, 200);
  // the same Ed25519 key by its RFC 7638 thumbprint
  const byThumbprint = await sign(t, ed.privateKey, { alg: 'EdDSA', kid: jwkThumbprint(ed.publicKey) });
  t.is((await app.get('/read?repository=team/app', `Bearer ${byThumbprint}`)).status, 200);
  const wrongAlg = await sign(t, t.context.keys.selfSigned.key, { alg: 'ES256', kid: 'ec-384-only' });
  t.is((await app.get('/read?repository=team/app', `Bearer ${wrongAlg}`)).body.message, 'invalid token: algorithm not accepted');
  // bundle certificates are not trusted by this instance
  t.is((await app.get('/read?repository=team/app', `Bearer ${await t.context.es.mint('reader', APP)}`)).body.message, 'invalid token: untrusted key');

  const base = { mode: 'registry-token', realm: t.context.es.realm, service: 's', issuers: 'i' };
  const privateJwk = registryTokenAuthSchema.safeParse({ ...base, jwks: { keys: [ed.privateKey.export({ format: 'jwk' })] } });
  t.false(privateJwk.success);
  t.regex(JSON.stringify(privateJwk.error?.issues), /holds a private key/);
  const symmetric = registryTokenAuthSchema.safeParse({ ...base, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } });
  t.regex(JSON.stringify(symmetric.error?.issues), /symmetric key/);
});
