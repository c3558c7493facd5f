import test from 'ava';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { locateSyntaxError, parseJsonText } from '../../src/vex/parse-json-text.ts';
import { parseVexDocument } from '../../src/vex/parse-vex-document.ts';
import { purlMatchesPackage } from '../../src/vex/package-purl-match.ts';
import { VexDocumentError } from '../../src/vex/vex-document-error.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';

const LIMITS = { maxBytes: 16 * 1024 * 1024, maxStatements: 20_000 };
const own = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/vex/${name}`, import.meta.url)), 'utf8');
const maybe = HAVE_FIXTURES ? test : test.skip;
const note = HAVE_FIXTURES ? '' : NO_FIXTURES;

/** The error a document gets, with its message. */
function rejects(t: { throws: (fn: () => unknown, e: object) => unknown }, text: string, message: RegExp): void {
  t.throws(() => parseVexDocument(text, LIMITS), { instanceOf: VexDocumentError, message });
}

test('OpenVEX: statements per product, vocabulary kept, aliases that are ids only', (t) => {
  const doc = parseVexDocument(own('openvex-libssl3.json'), LIMITS);
  t.like(doc, { format: 'openvex', documentId: 'https://vex.example.test/docs/alpine-libssl3-2026-1', author: 'Example Platform Team <platform@example.test>', issuedAt: '2026-01-15T10:00:00.000Z', skipped: [] });
  t.deepEqual(doc.statements, [
    {
      position: '/statements/0/products/0',
      vulnerability: 'CVE-2026-1001',
      aliases: ['GHSA-aaaa-bbbb-cccc'],
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
      impactStatement: 'Our images never call the affected TLS renegotiation path.',
      actionStatement: null,
      imageDigest: null,
      packagePurl: 'pkg:apk/alpine/libssl3@3.1.4-r0?arch=x86_64&distro=alpine-3.19.1',
    },
    { position: '/statements/1/products/0', vulnerability: 'CVE-2026-1004', aliases: [], status: 'under_investigation', justification: null, impactStatement: null, actionStatement: null, imageDigest: null, packagePurl: 'pkg:apk/alpine/busybox@1.36.1-r15' },
  ]);
});

test('OpenVEX: an image product (OCI purl or bare digest) with subcomponents; early-version string products', (t) => {
  const digest = `sha256:${'ab'.repeat(32)}`;
  const doc = parseVexDocument(
    JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.0.1',
      '@id': 'urn:test:1',
      author: 'a',
      timestamp: '2026-01-01T00:00:00Z',
      statements: [
        { vulnerability: 'cve-2026-0001', products: [`pkg:oci/app@${encodeURIComponent(digest)}?repository_url=registry.test/team/app`], subcomponents: ['pkg:apk/alpine/zlib@1.3-r0'], status: 'fixed' },
        { vulnerability: { name: 'CVE-2026-0002' }, products: [{ '@id': 'https://images.example.test/app', hashes: { 'sha-256': 'ab'.repeat(32) } }], status: 'affected', action_statement: 'Upgrade.' },
        { vulnerability: { name: 'CVE-2026-0003' }, products: [{ '@id': 'cpe:2.3:a:example:thing:1:*:*:*:*:*:*:*' }], status: 'not_affected', justification: 'component_not_present' },
      ],
    }),
    LIMITS,
  );
  t.deepEqual(doc.statements.map((s) => [s.vulnerability, s.status, s.imageDigest, s.packagePurl, s.actionStatement]), [
    ['CVE-2026-0001', 'fixed', digest, 'pkg:apk/alpine/zlib@1.3-r0', null],
    ['CVE-2026-0002', 'affected', digest, null, 'Upgrade.'],
  ]);
  t.deepEqual(doc.skipped, [{ position: '/statements/2/products/0', reason: 'a CPE names no package or image Lookout can match' }]);
});

test('CycloneDX VEX: analysis states mapped, refs resolved to component purls, the described image kept', (t) => {
  const doc = parseVexDocument(own('cyclonedx-busybox.json'), LIMITS);
  t.like(doc, { format: 'cyclonedx', documentId: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79', author: 'Example Platform Team' });
  t.deepEqual(doc.statements.map((s) => [s.position, s.vulnerability, s.status, s.packagePurl, s.actionStatement]), [
    ['/vulnerabilities/0/affects/0', 'CVE-2026-1002', 'fixed', 'pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64', 'Patched in our busybox build (backport of the upstream fix).'],
  ]);
  const digest = `sha256:${'cd'.repeat(32)}`;
  const nested = parseVexDocument(
    JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      metadata: { component: { type: 'container', 'bom-ref': 'img', name: 'app', version: digest } },
      components: [{ type: 'library', 'bom-ref': 'z', name: 'zlib', purl: 'pkg:deb/debian/zlib1g@1.2.13.dfsg-1' }],
      vulnerabilities: [
        { id: 'CVE-2026-0010', analysis: { state: 'false_positive', detail: 'not the same zlib' }, affects: [{ ref: 'z' }] },
        { id: 'CVE-2026-0011', analysis: { state: 'not_affected', justification: 'code_not_reachable' }, affects: [{ ref: 'img' }] },
        { id: 'CVE-2026-0012', analysis: { state: 'exploitable', response: ['update'] }, affects: [{ ref: 'pkg:npm/lodash@4.17.20' }] },
      ],
    }),
    LIMITS,
  );
  t.deepEqual(nested.statements.map((s) => [s.vulnerability, s.status, s.justification, s.impactStatement, s.imageDigest, s.packagePurl]), [
    ['CVE-2026-0010', 'not_affected', null, 'false positive: not the same zlib', digest, 'pkg:deb/debian/zlib1g@1.2.13.dfsg-1'],
    ['CVE-2026-0011', 'not_affected', 'code_not_reachable', null, digest, null],
    ['CVE-2026-0012', 'affected', null, null, digest, 'pkg:npm/lodash@4.17.20'],
  ]);
});

test('CSAF VEX: product tree purls, flags as justification, impact threats; CPE-only products skipped', (t) => {
  const doc = parseVexDocument(own('csaf-openssl.json'), LIMITS);
  t.like(doc, { format: 'csaf', documentId: 'EXAMPLE-VEX-2026-1003', author: 'Example Security', version: '1' });
  t.deepEqual(doc.statements.map((s) => [s.position, s.vulnerability, s.status, s.justification, s.impactStatement, s.packagePurl]), [
    ['/vulnerabilities/0/product_status/known_not_affected/0', 'CVE-2026-1003', 'not_affected', 'vulnerable_code_not_present', "The legacy cipher provider is not built into Alpine's libssl3.", 'pkg:apk/alpine/libssl3'],
  ]);
  t.deepEqual(doc.skipped, [{ position: '/vulnerabilities/0/product_status/known_not_affected/1', reason: 'a CPE names no package or image Lookout can match' }]);
});

maybe(`real documents: Canonical's OpenVEX and Red Hat's CSAF VEX read whole${note}`, (t) => {
  const canonical = parseVexDocument(readFileSync(fixture('feeds/ubuntu/vex/CVE-2023-38545.openvex.json')), LIMITS);
  t.is(canonical.author, 'Canonical Ltd.');
  const byStatus = (d: typeof canonical) => d.statements.reduce<Record<string, number>>((m, s) => ({ ...m, [s.status]: (m[s.status] ?? 0) + 1 }), {});
  t.deepEqual(byStatus(canonical), { fixed: 149, affected: 113, not_affected: 356 });
  t.true(canonical.statements.every((s) => s.vulnerability === 'CVE-2023-38545' && s.packagePurl?.startsWith('pkg:deb/ubuntu/')));
  t.true(canonical.statements.filter((s) => s.status === 'not_affected').every((s) => s.justification === 'vulnerable_code_not_present'));
  const redhat = parseVexDocument(gunzipSync(readFileSync(fixture('feeds/redhat-csaf-vex/cve-2023-38545.json.gz'))), LIMITS);
  t.like(redhat, { format: 'csaf', documentId: 'CVE-2023-38545', author: 'Red Hat Product Security' });
  t.deepEqual(byStatus(redhat), { not_affected: 247, fixed: 324 });
  t.true(redhat.statements.every((s) => s.packagePurl?.startsWith('pkg:') && s.imageDigest === null));
  t.is(redhat.skipped.length, 1);
  t.throws(() => parseVexDocument(readFileSync(fixture('feeds/ubuntu/vex/CVE-2023-38545.openvex.json')), { ...LIMITS, maxStatements: 100 }), { message: /more than 100 statements/ });
});

test('JSON that does not parse is rejected with its line and column', (t) => {
  const text = own('openvex-libssl3.json').replace('"status": "not_affected",', '"status": "not_affected"');
  const err = t.throws(() => parseVexDocument(text, LIMITS), { instanceOf: VexDocumentError })!;
  const line = text.split('\n').findIndex((l) => l.includes('"justification"')) + 1;
  t.deepEqual(err.position, { line, column: 7 });
  t.regex(err.message, new RegExp(`^line ${line} column 7: not valid JSON: expected "," or "}", found "\\\\""`));
  t.is(err.status, 400);
  t.is(err.code, 'invalid_vex');
  rejects(t, '', /^line 1 column 1: not valid JSON: unexpected end of input/);
  rejects(t, '{"a": [1, 2,, 3]}', /^line 1 column 13: not valid JSON: expected a value/);
  t.throws(() => parseVexDocument(Buffer.from([0x7b, 0xff, 0x7d]), LIMITS), { message: 'document is not valid UTF-8' });
});

test('malformed documents of each format are rejected with the JSON pointer of the problem', (t) => {
  const openvex = JSON.parse(own('openvex-libssl3.json'));
  const cases: Array<[unknown, RegExp]> = [
    [{ ...openvex, statements: [openvex.statements[0], { ...openvex.statements[1], status: 'maybe' }] }, /^\/statements\/1\/status: unknown status "maybe"/],
    [{ ...openvex, statements: [{ ...openvex.statements[0], justification: undefined, impact_statement: undefined }] }, /^\/statements\/0: a not_affected statement needs a justification or an impact_statement/],
    [{ ...openvex, statements: [{ ...openvex.statements[0], justification: 'because' }] }, /^\/statements\/0\/justification: unknown justification "because"/],
    [{ ...openvex, statements: [{ ...openvex.statements[0], products: [{ '@id': 'pkg:' }] }] }, /^\/statements\/0\/products\/0\/@id: "pkg:" is not a valid package URL/],
    [{ ...openvex, statements: [] }, /^\/statements: expected at least 1 item/],
    [{ ...openvex, '@context': 'https://openvex.dev/ns/v0.2.0', statements: [{ ...openvex.statements[0], vulnerability: { name: 'not an id' } }] }, /^\/statements\/0\/vulnerability\/name: "not an id" is not a vulnerability id/],
  ];
  const cdx = JSON.parse(own('cyclonedx-busybox.json'));
  cases.push(
    [{ ...cdx, vulnerabilities: [{ ...cdx.vulnerabilities[0], analysis: undefined }] }, /^\/vulnerabilities\/0: analysis is required/],
    [{ ...cdx, vulnerabilities: [{ ...cdx.vulnerabilities[0], analysis: { state: 'fine' } }] }, /^\/vulnerabilities\/0\/analysis\/state: unknown analysis state "fine"/],
    [{ ...cdx, vulnerabilities: [{ ...cdx.vulnerabilities[0], affects: [{ ref: 'nowhere' }] }] }, /^\/vulnerabilities\/0\/affects\/0\/ref: "nowhere" is not the bom-ref of a component of this BOM/],
    [{ ...cdx, specVersion: '1.2' }, /^\/specVersion: specVersion "1.2" is not supported/],
  );
  const csaf = JSON.parse(own('csaf-openssl.json'));
  const vuln = csaf.vulnerabilities[0];
  cases.push(
    [{ ...csaf, vulnerabilities: [{ ...vuln, product_status: { known_not_affected: ['libssl3', 'nope'] } }] }, /^\/vulnerabilities\/0\/product_status\/known_not_affected\/1: product "nope" is not a product of the tree/],
    [{ ...csaf, vulnerabilities: [{ ...vuln, flags: [], threats: [] }] }, /^\/vulnerabilities\/0\/product_status\/known_not_affected\/0: known_not_affected product "libssl3" needs a flag or an impact threat/],
    [{ ...csaf, document: { ...csaf.document, category: 'csaf_security_advisory' } }, /^\/document\/category: category "csaf_security_advisory" is not a VEX/],
    [{ ...csaf, vulnerabilities: [{ ...vuln, flags: [{ label: 'trust_me', product_ids: ['libssl3'] }] }] }, /^\/vulnerabilities\/0\/flags\/0\/label: unknown flag label "trust_me"/],
  );
  cases.push([{ hello: 'world' }, /^\(document\): not a VEX document/]);
  for (const [doc, message] of cases) rejects(t, JSON.stringify(doc, null, 2), message);
});

test('limits: document size and statement count', (t) => {
  t.throws(() => parseVexDocument(own('openvex-libssl3.json'), { maxBytes: 100, maxStatements: 10 }), { message: /document of \d+ bytes is over the limit of 100/ });
  const err = t.throws(() => parseVexDocument(own('openvex-libssl3.json'), { ...LIMITS, maxStatements: 1 }), { instanceOf: VexDocumentError })!;
  t.is(err.code, 'vex_too_large');
  t.is(err.position && 'pointer' in err.position ? err.position.pointer : null, '/statements/1/products/0');
  t.throws(() => parseJsonText(`${'['.repeat(300)}${']'.repeat(300)}`), { message: /nested deeper than 256 levels/ });
});

test('the syntax locator agrees with JSON.parse on mutated documents, and points inside the text', (t) => {
  const base = own('openvex-libssl3.json');
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const alphabet = ['{', '}', '[', ']', ',', ':', '"', '\\', 'x', '1', ' ', '\n', 'n', '-', '.', 'e'];
  let invalid = 0;
  for (let i = 0; i < 2000; i++) {
    const chars = [...base];
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * chars.length);
      const op = random();
      if (op < 0.33) chars.splice(at, 1);
      else if (op < 0.66) chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]!);
      else chars[at] = alphabet[Math.floor(random() * alphabet.length)]!;
    }
    const text = chars.join('');
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    const found = locateSyntaxError(text);
    t.is(found === null, parses, `mutation ${i}: ${JSON.stringify(text.slice(0, 60))}`);
    if (found !== null) {
      invalid++;
      t.true(found.offset >= 0 && found.offset <= text.length);
      // The text before the offset holds no error of its own: cut there, it fails only at its end
      // (or inside the literal or number the cut went through).
      const before = locateSyntaxError(text.slice(0, found.offset));
      t.true(before === null || before.offset >= found.offset - 8, `mutation ${i}: offset ${found.offset}, but the prefix fails at ${before?.offset}`);
    }
  }
  t.true(invalid > 500, `${invalid} of the mutations are invalid JSON`);
});

test('purl matching: name as the ecosystem keys it, version by its scheme, source purls, distro qualifiers, epochs', (t) => {
  const alpine = { did: 'alpine', versionId: '3.19.1', versionCodename: null, key: 'alpine:3.19' };
  const libssl = { ecosystem: 'apk', name: 'libssl3', version: '3.1.4-r0', sourceName: 'openssl', sourceVersion: '3.1.4-r0' };
  t.true(purlMatchesPackage('pkg:apk/alpine/libssl3@3.1.4-r0?arch=x86_64&distro=alpine-3.19.1', libssl, alpine));
  t.true(purlMatchesPackage('pkg:apk/alpine/libssl3', libssl, alpine), 'no version: every version');
  t.false(purlMatchesPackage('pkg:apk/alpine/libssl3@3.1.4-r1', libssl, alpine), 'another version');
  t.false(purlMatchesPackage('pkg:apk/alpine/libssl3@3.1.4-r0?distro=alpine-3.18.4', libssl, alpine), 'another release');
  t.false(purlMatchesPackage('pkg:apk/alpine/openssl@3.1.4-r0', libssl, alpine), 'a binary purl names the binary only');
  t.true(purlMatchesPackage('pkg:apk/alpine/openssl@3.1.4-r0?arch=source', libssl, alpine), 'arch=source names the origin');
  t.false(purlMatchesPackage('pkg:deb/debian/libssl3@3.1.4-r0', libssl, alpine), 'another ecosystem');
  const jammy = { did: 'ubuntu', versionId: '22.04', versionCodename: 'jammy', key: 'ubuntu:jammy' };
  const curl = { ecosystem: 'dpkg', name: 'libcurl4', version: '7.81.0-1ubuntu1.24', sourceName: 'curl', sourceVersion: '7.81.0-1ubuntu1.24' };
  t.true(purlMatchesPackage('pkg:deb/ubuntu/libcurl4@7.81.0-1ubuntu1.24?arch=amd64&distro=jammy', curl, jammy));
  t.false(purlMatchesPackage('pkg:deb/ubuntu/libcurl4@7.81.0-1ubuntu1.24?arch=amd64&distro=esm-infra/focal', curl, jammy));
  t.true(purlMatchesPackage('pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.24?arch=source&distro=jammy', curl, jammy));
  const rpm = { ecosystem: 'rpm', name: 'eap7-activemq-artemis-native', version: '1:1.0.2-3.redhat_00004.1.el7eap', sourceName: null, sourceVersion: null };
  t.true(purlMatchesPackage('pkg:rpm/redhat/eap7-activemq-artemis-native@1.0.2-3.redhat_00004.1.el7eap?arch=noarch&epoch=1', rpm, null));
  t.false(purlMatchesPackage('pkg:rpm/redhat/eap7-activemq-artemis-native@1.0.2-3.redhat_00004.1.el7eap?arch=noarch', rpm, null), 'no epoch is epoch 0');
  t.true(purlMatchesPackage('pkg:pypi/Django_Rest@1.0', { ecosystem: 'pypi', name: 'django-rest', version: '1.0' }, null), 'PEP 503 names');
  t.true(purlMatchesPackage('pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1', { ecosystem: 'maven', name: 'org.apache.logging.log4j:log4j-core', version: '2.14.1' }, null));
  t.true(purlMatchesPackage('pkg:npm/%40babel/core@7.0.0', { ecosystem: 'npm', name: '@babel/core', version: '7.0.0' }, null));
  t.true(purlMatchesPackage('pkg:golang/github.com/gin-gonic/gin@v1.6.0', { ecosystem: 'go', name: 'github.com/gin-gonic/gin', version: 'v1.6.0' }, null));
  t.false(purlMatchesPackage('not a purl', libssl, alpine));
});
