import test from 'ava';
import { backoffDelay } from '../../src/registry/backoff-delay.ts';
import { artifactReason, classifyIndexEntry } from '../../src/registry/classify-index-entry.ts';
import { describeUrl } from '../../src/registry/describe-url.ts';
import { formatImageReference, manifestReference, parseImageReference } from '../../src/registry/image-reference.ts';
import { nextLink } from '../../src/registry/link-header.ts';
import { parseImageConfig } from '../../src/registry/parse-image-config.ts';
import { parseManifest } from '../../src/registry/parse-manifest.ts';
import { LINUX_PLATFORMS, parsePlatformFilter, platformMatches } from '../../src/registry/platform-filter.ts';
import { REGISTRY_DEFAULTS } from '../../src/registry/registry-config.ts';
import { RegistryError } from '../../src/registry/registry-error.ts';
import { RegistrySet } from '../../src/registry/registry-set.ts';
import { parseRetryAfter } from '../../src/registry/retry-after.ts';
import { Semaphore } from '../../src/registry/semaphore.ts';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

test('image references: registry detection, tags, digests, defaults', (t) => {
  t.deepEqual(parseImageReference('127.0.0.1:5000/demo/app:v1'), { registry: '127.0.0.1:5000', repository: 'demo/app', tag: 'v1', digest: null });
  t.deepEqual(parseImageReference(`localhost/app@${D1}`), { registry: 'localhost', repository: 'app', tag: null, digest: D1 });
  t.deepEqual(parseImageReference(`Reg.Example:443/a/b/c:1.0@${D1}`), { registry: 'reg.example:443', repository: 'a/b/c', tag: '1.0', digest: D1 });
  t.deepEqual(parseImageReference('[::1]:5000/app'), { registry: '[::1]:5000', repository: 'app', tag: 'latest', digest: null });
  const defaults = { defaultRegistry: 'registry.internal', defaultNamespace: 'library' };
  t.deepEqual(parseImageReference('alpine', defaults), { registry: 'registry.internal', repository: 'library/alpine', tag: 'latest', digest: null });
  t.deepEqual(parseImageReference('team/app:2', defaults), { registry: 'registry.internal', repository: 'team/app', tag: '2', digest: null });
  const ref = parseImageReference(`r.example/x:1@${D1}`);
  t.is(manifestReference(ref), D1);
  t.is(formatImageReference(ref), `r.example/x:1@${D1}`);
});

test('image references: clear errors for bad input', (t) => {
  const bad = (text: string, why: RegExp): void => {
    const err = t.throws(() => parseImageReference(text, { defaultRegistry: 'r.example' }), { instanceOf: RegistryError });
    t.is((err as RegistryError).kind, 'invalid_reference');
    t.regex(err!.message, why);
  };
  bad('', /empty/);
  bad('r.example/App:1', /repository/);
  bad('r.example/app:-x', /tag/);
  bad('r.example/app@sha256:1234', /digest/);
  bad('r.example/app name', /white space/);
  bad(`r.example/${'a'.repeat(600)}`, /longer than/);
  t.throws(() => parseImageReference('app'), { message: /no default registry/ });
});

test('Retry-After: seconds, HTTP dates, garbage', (t) => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  t.is(parseRetryAfter('120', now), 120_000);
  t.is(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
  t.is(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
  t.is(parseRetryAfter(['2', '5'], now), 2000);
  t.is(parseRetryAfter('soon', now), null);
  t.is(parseRetryAfter('-1', now), null);
  t.is(parseRetryAfter(undefined, now), null);
  t.is(parseRetryAfter('99999999', now), 24 * 60 * 60 * 1000);
});

test('backoff: exponential, capped, jittered, Retry-After as a floor', (t) => {
  const retries = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  t.is(backoffDelay(1, retries, null, () => 1), 100);
  t.is(backoffDelay(1, retries, null, () => 0), 50);
  t.is(backoffDelay(3, retries, null, () => 1), 400);
  t.is(backoffDelay(10, retries, null, () => 1), 1000);
  t.is(backoffDelay(1, retries, 700, () => 1), 700);
});

test('Link header: next page, relative, several links, quoted commas', (t) => {
  const base = 'http://127.0.0.1:5000/v2/_catalog?n=2';
  t.is(nextLink('</v2/_catalog?last=b&n=2>; rel="next"', base), 'http://127.0.0.1:5000/v2/_catalog?last=b&n=2');
  t.is(nextLink('<https://x/prev>; rel="prev", <https://x/a,b>; title="x, y"; rel="next last"', base), 'https://x/a,b');
  t.is(nextLink('<https://x/p>; rel=prev', base), null);
  t.is(nextLink(undefined, base), null);
  t.is(nextLink('garbage', base), null);
});

test('URLs in messages lose credentials and query strings', (t) => {
  t.is(describeUrl('https://user:pw@s3.example/bucket/blob?X-Amz-Signature=secret'), 'https://s3.example/bucket/blob');
  t.is(describeUrl('nonsense'), '(invalid URL)');
});

test('platform filters', (t) => {
  const linux = [parsePlatformFilter('linux')];
  t.true(platformMatches({ os: 'linux', architecture: 'amd64' }, linux));
  t.false(platformMatches({ os: 'windows', architecture: 'amd64' }, linux));
  t.false(platformMatches({ os: 'unknown', architecture: 'unknown' }, linux));
  t.true(platformMatches({ os: 'linux', architecture: 'arm64' }, [parsePlatformFilter('linux/arm64/v8')]));
  t.true(platformMatches({ os: 'linux', architecture: 'aarch64', variant: 'v8' }, [parsePlatformFilter('linux/arm64')]));
  t.false(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, [parsePlatformFilter('linux/arm/v7')]));
  t.true(platformMatches({ os: 'unknown', architecture: 'unknown' }, [parsePlatformFilter('*')]));
  t.throws(() => parsePlatformFilter('linux/amd64/v1/x'), { instanceOf: RangeError });
});

test('manifests: media type from body, header or shape; schema checked', (t) => {
  const oci = { schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D1, size: 10 }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D2, size: 20 }] };
  const m = parseManifest(Buffer.from(JSON.stringify(oci)), null);
  t.is(m.kind, 'image');
  t.is(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D1, size: 5, platform: { os: 'linux', architecture: 'arm64', variant: 'v8', 'os.version': '1' } }] };
  const i = parseManifest(Buffer.from(JSON.stringify(index)), 'application/vnd.oci.image.index.v1+json; charset=utf-8');
  t.is(i.kind, 'index');
  t.deepEqual(i.kind === 'index' ? i.manifests[0]?.platform : null, { os: 'linux', architecture: 'arm64', variant: 'v8', osVersion: '1' });

  const kind = (body: unknown, type: string | null): string => {
    const err = t.throws(() => parseManifest(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), type), { instanceOf: RegistryError });
    return `${(err as RegistryError).kind}: ${err!.message}`;
  };
  t.regex(kind('{not json', null), /^invalid_manifest: manifest is not valid JSON/);
  t.regex(kind({ schemaVersion: 1, name: 'x' }, null), /^unsupported: .*schema 1/);
  t.regex(kind({ ...oci, mediaType: 'application/vnd.oci.image.index.v1+json' }, 'application/vnd.oci.image.manifest.v1+json'), /^invalid_manifest: .*says mediaType/);
  t.regex(kind({ ...oci, layers: [{ mediaType: 'x', digest: 'sha256:zz', size: 1 }] }, null), /^invalid_manifest: .*layers\.0\.digest/);
  t.regex(kind({ ...oci, config: { ...oci.config, size: -1 } }, null), /^invalid_manifest: .*config\.size/);
  t.regex(kind({ schemaVersion: 2, mediaType: 'application/vnd.example+json' }, null), /^unsupported: /);
  t.regex(
    kind({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: [{ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: D1, size: 1 }] }, null),
    /no platform/,
  );
});

test('image config: diff_ids and platform read, bad configs refused', (t) => {
  const config = parseImageConfig(Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [D1, D2] }, history: [{ created_by: 'x' }, { empty_layer: true }], config: { Env: ['A=1'] } })));
  t.deepEqual(config.diffIds, [D1, D2]);
  t.deepEqual(config.history, [{ createdBy: 'x', emptyLayer: false }, { emptyLayer: true }]);
  t.deepEqual(config.runtime, { Env: ['A=1'] });
  const err = t.throws(() => parseImageConfig(Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: ['nope'] } }))), { instanceOf: RegistryError });
  t.regex(err!.message, /rootfs\.diff_ids\.0/);
});

test('semaphore: bounded holders, FIFO waiters, abort while waiting', async (t) => {
  const sem = new Semaphore(2);
  const a = await sem.acquire();
  const b = await sem.acquire();
  t.is(sem.inUse, 2);
  const order: string[] = [];
  const c = sem.acquire().then((r) => (order.push('c'), r));
  const controller = new AbortController();
  const d = sem.acquire(controller.signal);
  const e = sem.acquire().then((r) => (order.push('e'), r));
  controller.abort(new Error('stop'));
  await t.throwsAsync(d, { message: 'stop' });
  a();
  a(); // a second call is a no-op
  const rc = await c;
  b();
  const re = await e;
  t.deepEqual(order, ['c', 'e']);
  rc();
  re();
  t.is(sem.inUse, 0);
});

test('registry set: clients by host and alias; unconfigured hosts refused', async (t) => {
  const set = new RegistrySet([
    { name: 'a', url: 'https://reg-a.example', aliases: ['mirror.example:5000'], ...REGISTRY_DEFAULTS },
    { name: 'b', url: 'http://127.0.0.1:5000/', ...REGISTRY_DEFAULTS },
  ]);
  t.teardown(() => set.close());
  t.is(set.clientFor('reg-a.example').name, 'a');
  t.is(set.clientFor('Mirror.Example:5000').name, 'a');
  t.is(set.clientFor(parseImageReference('127.0.0.1:5000/x/y:1')).name, 'b');
  t.is(set.clientFor('127.0.0.1:5000').url, 'http://127.0.0.1:5000');
  t.is(set.byConfigName('b')?.name, 'b');
  const err = t.throws(() => set.clientFor('evil.example'), { instanceOf: RegistryError });
  t.is((err as RegistryError).kind, 'not_allowed');
  t.throws(() => new RegistrySet([{ name: 'a', url: 'https://x.example', ...REGISTRY_DEFAULTS }, { name: 'c', url: 'https://x.example', ...REGISTRY_DEFAULTS }]), { message: /configured twice/ });
});

test('index entries: what is fetched and what is skipped, from the descriptor alone', (t) => {
  const manifest = 'application/vnd.oci.image.manifest.v1+json';
  const decide = (entry: Record<string, unknown>, depth = 0): unknown =>
    classifyIndexEntry({ mediaType: manifest, digest: D1, size: 1, ...entry } as never, LINUX_PLATFORMS, depth, 2);
  t.deepEqual(decide({ platform: { os: 'linux', architecture: 'amd64' } }), { action: 'fetch', isIndex: false });
  t.deepEqual(decide({}), { action: 'fetch', isIndex: false }); // no platform: its config decides
  t.deepEqual(decide({ platform: { os: 'windows', architecture: 'amd64', 'os.version': '10' } }), { action: 'skip', reason: 'platform-not-requested', detail: 'platform windows/amd64' });
  t.deepEqual(decide({ artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' }), { action: 'skip', reason: 'artifact', detail: 'artifactType application/vnd.dev.cosign.artifact.sig.v1+json' });
  t.deepEqual(decide({ platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': D2 } }), {
    action: 'skip',
    reason: 'attestation-manifest',
    detail: `attestation for ${D2}`,
  });
  t.deepEqual(decide({ mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' }), { action: 'skip', reason: 'unsupported-media-type', detail: 'media type application/vnd.docker.distribution.manifest.v1+prettyjws' });
  t.deepEqual(decide({ mediaType: 'application/vnd.oci.image.index.v1+json' }, 1), { action: 'fetch', isIndex: true });
  t.deepEqual(decide({ mediaType: 'application/vnd.oci.image.index.v1+json' }, 2), { action: 'skip', reason: 'nested-index-too-deep', detail: 'index nested more than 2 levels' });

  const image = { kind: 'image' as const, mediaType: manifest, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D1 as never, size: 1 }, layers: [] };
  t.is(artifactReason(image), null);
  t.is(artifactReason({ ...image, config: { ...image.config, mediaType: 'application/vnd.oci.empty.v1+json' } }), 'config media type application/vnd.oci.empty.v1+json');
  t.is(artifactReason({ ...image, artifactType: 'application/spdx+json' }), 'artifactType application/spdx+json');
});
