import anyTest, { type TestFn } from 'ava';
import { alpineAdvisory, alpineLayerFiles, api, eventually, indexImage, startOperatorLookout, type OperatorHarness } from '../vex/operator-harness.ts';

// Exceptions through the API: checked input, who wrote them, which findings they cover (package,
// repository glob, image), and that an exception whose expiry has passed is not applied.

interface Context {
  h: OperatorHarness;
  app: { manifestId: number; digest: string };
  other: { manifestId: number; digest: string };
}

const test = anyTest as TestFn<Context>;
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

test.before(async (t) => {
  // The expiry check runs hourly here: these tests never see it act.
  const h = await startOperatorLookout('exceptions_api', { exceptions: { maxDurationDays: 30, checkIntervalSeconds: 3600 } });
  for (const [id, origin, fixed] of [['CVE-2026-4001', 'openssl', '3.1.5-r0'], ['CVE-2026-4002', 'busybox', '1.36.1-r20']] as const) {
    const res = await api(h, 'POST', '/api/v1/advisories', alpineAdvisory(id, origin, fixed));
    if (res.status !== 201) throw new Error(res.text);
  }
  const layer = await h.layout.addLayer(alpineLayerFiles([['busybox', '1.36.1-r15', 'busybox'], ['libcrypto3', '3.1.4-r0', 'openssl'], ['libssl3', '3.1.4-r0', 'openssl']]));
  const extra = await h.layout.addLayer([{ path: 'srv/x', content: 'x' }]);
  const app = await indexImage(h, [layer], { repository: 'team/app', tag: 'v1' });
  const other = await indexImage(h, [layer, extra], { repository: 'infra/proxy', tag: 'v1' });
  t.context = { h, app, other };
});

test.after.always(async (t) => {
  await t.context.h?.close();
});

async function lines(t: { context: Context }, digest: string, check?: (active: string[]) => boolean): Promise<{ active: string[]; suppressed: string[] }> {
  const read = async () => {
    const report = (await api(t.context.h, 'GET', `/api/v1/images/${digest}?suppressed=include`)).json.report;
    return {
      active: (report.findings as Array<{ vulnerability: string; package: { name: string } }>).map((f) => `${f.vulnerability} ${f.package.name}`).sort(),
      suppressed: (report.suppressedFindings as Array<{ vulnerability: string; package: { name: string }; suppression: { id: string } }>).map((f) => `${f.vulnerability} ${f.package.name} ${f.suppression.id}`).sort(),
    };
  };
  return check ? eventually(read, (v) => check(v.active)) : read();
}

const ALL = ['CVE-2026-4001 libcrypto3', 'CVE-2026-4001 libssl3', 'CVE-2026-4002 busybox'];

test.serial('bad exceptions are a 400 naming the field; nothing is stored', async (t) => {
  const good = { vulnerability: 'CVE-2026-4001', reason: 'compensating control', author: 'sec@example.test', expires: inDays(7) };
  const cases: Array<[unknown, RegExp]> = [
    [{ ...good, expires: new Date(Date.now() - 60_000).toISOString() }, /expires: must be in the future/],
    [{ ...good, expires: inDays(31) }, /expires: at most 30 days from now/],
    [{ ...good, expires: 'next week' }, /^invalid exception: expires: /],
    [{ ...good, vulnerability: 'CVE 2026' }, /^invalid exception: vulnerability: /],
    [{ ...good, reason: ' ' }, /^invalid exception: reason: /],
    [{ ...good, repository: 'Team/App' }, /^invalid exception: repository: /],
    [{ ...good, image: 'sha256:123' }, /^invalid exception: image: /],
    [{ ...good, author: undefined }, /author: required when the credentials name no subject/],
    [{ ...good, extra: 1 }, /^invalid exception: body: Unrecognized key/i],
  ];
  for (const [body, message] of cases) {
    const res = await api(t.context.h, 'POST', '/api/v1/exceptions', body);
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.json.code, 'invalid_exception');
    t.regex(res.json.message, message);
  }
  t.is((await api(t.context.h, 'POST', '/api/v1/exceptions', good, { key: null })).status, 401);
  t.deepEqual((await api(t.context.h, 'GET', '/api/v1/exceptions?state=all')).json.items, []);
  t.is((await api(t.context.h, 'GET', '/api/v1/exceptions?state=soon')).status, 400);
  t.is((await api(t.context.h, 'GET', '/api/v1/exceptions/not-a-uuid')).status, 404);
});

test.serial('an exception covers its vulnerability, limited to a package and a repository glob; deleting it brings the finding back', async (t) => {
  const { app, other } = t.context;
  t.deepEqual((await lines(t, app.digest)).active, ALL);
  const res = await api(t.context.h, 'POST', '/api/v1/exceptions', { vulnerability: 'cve-2026-4001', package: 'libssl3', repository: 'team/*', reason: 'TLS terminated upstream', author: 'sec@example.test', expires: inDays(7) });
  t.is(res.status, 201, res.text);
  t.like(res.json, { vulnerability: 'CVE-2026-4001', package: 'libssl3', repository: 'team/*', image: null, author: 'sec@example.test', state: 'active' });
  t.is(res.headers.get('location'), `/api/v1/exceptions/${res.json.id}`);
  const app1 = await lines(t, app.digest, (a) => a.length === 2);
  t.deepEqual(app1, { active: ['CVE-2026-4001 libcrypto3', 'CVE-2026-4002 busybox'], suppressed: [`CVE-2026-4001 libssl3 ${res.json.id}`] });
  t.deepEqual((await lines(t, other.digest)).active, ALL, 'infra/proxy is not under team/*');

  // By image, for every package of the vulnerability (the source name works too).
  const byImage = await api(t.context.h, 'POST', '/api/v1/exceptions', { vulnerability: 'CVE-2026-4001', package: 'openssl', image: other.digest, reason: 'proxy only', author: 'sec@example.test', expires: inDays(1) });
  t.is(byImage.status, 201);
  const other1 = await lines(t, other.digest, (a) => a.length === 1);
  t.deepEqual(other1.active, ['CVE-2026-4002 busybox']);
  t.deepEqual((await lines(t, app.digest)).active, ['CVE-2026-4001 libcrypto3', 'CVE-2026-4002 busybox'], 'the image exception is for the proxy only');

  t.is((await api(t.context.h, 'DELETE', `/api/v1/exceptions/${byImage.json.id}`)).status, 204);
  t.deepEqual((await lines(t, other.digest, (a) => a.length === 3)).active, ALL);
  t.is((await api(t.context.h, 'DELETE', `/api/v1/exceptions/${byImage.json.id}`)).status, 404, 'already deleted');
  t.like((await api(t.context.h, 'GET', `/api/v1/exceptions/${byImage.json.id}`)).json, { state: 'deleted', deletedBy: null });
  t.deepEqual((await api(t.context.h, 'GET', '/api/v1/exceptions')).json.items.map((e: { id: string }) => e.id), [res.json.id], 'active ones by default');
});

test.serial('an exception whose expiry has passed is not applied (even before the expiry check ran)', async (t) => {
  const { app, h } = t.context;
  // Stored as it would be by the API a while ago: the check that acts on expiries has not run yet.
  const [row] = await h.db.knex('exceptions')
    .insert({ vulnerability: 'CVE-2026-4002', package_name: 'busybox', reason: 'old acceptance', author: 'sec@example.test', expires_at: new Date(Date.now() - 1000), created_at: new Date(Date.now() - 86_400_000) })
    .returning('id');
  // A live one for the same finding would suppress it: the expired one must not.
  await h.lookout.reports.refresh(app.manifestId);
  const now = await lines(t, app.digest);
  t.true(now.active.includes('CVE-2026-4002 busybox'));
  t.false(now.suppressed.some((l) => l.includes(row.id)));
  t.like((await api(h, 'GET', `/api/v1/exceptions/${row.id}`)).json, { state: 'expired' });
  t.deepEqual((await api(h, 'GET', '/api/v1/exceptions?state=expired')).json.items.map((e: { id: string }) => e.id), [row.id]);
  const live = await api(h, 'POST', '/api/v1/exceptions', { vulnerability: 'CVE-2026-4002', package: 'busybox', reason: 'new acceptance', author: 'sec@example.test', expires: inDays(2) });
  t.is(live.status, 201);
  t.deepEqual((await lines(t, app.digest, (a) => !a.includes('CVE-2026-4002 busybox'))).suppressed.filter((l) => l.startsWith('CVE-2026-4002')), [`CVE-2026-4002 busybox ${live.json.id}`]);
});
