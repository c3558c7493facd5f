import test from 'ava';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { criteriaBranches, criteriaLeaves } from '../../../src/ecosystems/oval/criteria-branches.ts';
import { FeedParseError } from '../../../src/feeds/feed-parse-error.ts';
import { makeRecord } from '../../../src/ecosystems/oval/make-record.ts';
import { mergeSameKey } from '../../../src/ecosystems/oval/merge-same-key.ts';
import { openFeedFile, sniffCompression } from '../../../src/feeds/open-feed-file.ts';
import { OvalIndex } from '../../../src/ecosystems/oval/oval-index.ts';
import type { OvalDefinition } from '../../../src/ecosystems/oval/oval-definition.ts';
import { readOvalDefinitions } from '../../../src/ecosystems/oval/read-oval-definitions.ts';
import { rpmDefinitionEntries } from '../../../src/ecosystems/oval/rpm-definition-entries.ts';
import { streamXmlElements } from '../../../src/ecosystems/oval/stream-xml-elements.ts';
import { rpmVersion } from '../../../src/ecosystems/rpm/rpm-version.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { collect, tempFile } from './xml-harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const PHOTON3 = (): string => fixture('feeds', 'photon', 'claircore-com.vmware.phsa-photon3.xml.gz');

function read(file: string, limits = {}): Promise<OvalDefinition[]> {
  return collect(readOvalDefinitions(() => openFeedFile(file), { label: file, ...limits }));
}

maybe(`the complete Photon 3 feed: 222 definitions, every criterion resolved to its test, object and state${suffix}`, async (t) => {
  const defs = await read(PHOTON3());
  t.is(defs.length, 222);
  t.true(defs.every((d) => d.class === 'patch' && d.platforms.join() === 'Photon 3'));
  const leaves = defs.flatMap((d) => criteriaLeaves(d.criteria));
  t.is(leaves.length, 222 + 778 * 2);
  t.true(leaves.every((c) => c.test !== null && c.test.object !== null && c.test.states.length === 1));

  const sqlite = defs[0]!;
  t.is(sqlite.id, 'oval:com.vmware.phsa:def:2020300001');
  t.is(sqlite.title, 'PHSA-2020:00001 sqlite Security Update. (Important)');
  const earlier = leaves.find((c) => c.testRef === 'oval:com.vmware.phsa:tst:202030000112')!;
  t.is(earlier.test!.type, 'rpminfo_test');
  t.deepEqual(earlier.test!.object!.names, ['sqlite']);
  t.deepEqual(earlier.test!.states[0]!.fields.evr, { value: '0:3.27.2-5.ph3', operation: 'less than', datatype: 'evr_string', varRef: null });
  const signed = leaves.find((c) => c.testRef === 'oval:com.vmware.phsa:tst:202030000113')!;
  t.is(signed.test!.states[0]!.fields.signature_keyid!.value, 'c0b5e0ab66fd4949');

  const index = await OvalIndex.build(await openFeedFile(PHOTON3()), { label: 'photon3' });
  t.is(index.root, 'oval_definitions');
  t.like(index.size, { tests: 1778, variables: 0 });
  t.is(index.test('oval:nowhere:tst:1'), null);
});

maybe(`Ubuntu objects name a source package's binaries through a constant variable${suffix}`, async (t) => {
  const [potrace, tor] = await read(fixture('feeds', 'ubuntu', 'vulnerablecode-ubuntu-oval-sample.xml'));
  const leaf = (d: OvalDefinition) => criteriaLeaves(d.criteria)[0]!;
  t.deepEqual(leaf(potrace!).test!.object!.names, ['libpotrace0', 'potrace']);
  t.deepEqual(leaf(tor!).test!.object!.names, ['tor', 'tor-geoipdb']);
  t.is(leaf(tor!).test!.type, 'dpkginfo_test');
  t.is(leaf(tor!).test!.states[0]!.fields.evr!.value, '0.2.8.9-1ubuntu1');
  t.like(potrace!.criteria!.children[0], { kind: 'extend_definition', definitionRef: 'oval:com.ubuntu.bionic:def:100', applicabilityCheck: true });
  t.is(potrace!.notes.length, 1);
  t.is(potrace!.advisory!.children.find((c) => c.name === 'severity')!.text, 'Medium');
});

maybe(`criteria branches: Oracle per-arch definitions expand into one branch per arch and package${suffix}`, async (t) => {
  const [rsyslog] = await read(fixture('feeds', 'oracle-oval', 'vunnel-oracle-oval-per-arch-sample.xml'));
  const branches = criteriaBranches(rsyslog!.criteria!);
  t.is(branches.length, 36); // 18 packages × 2 arches
  t.deepEqual(
    branches[0]!.map((a) => a.comment),
    ['Oracle Linux 7 is installed', 'Oracle Linux arch is aarch64', 'rsyslog is earlier than 0:8.24.0-57.0.4.el7_9.3', 'rsyslog is signed with the Oracle Linux 7 key'],
  );
  const entries = rpmDefinitionEntries(rsyslog!, { commentFallback: true });
  t.like(entries[0], { packageName: 'rsyslog', evr: '8.24.0-57.0.4.el7_9.3', operation: 'less than', arch: 'aarch64', ksplice: false });
  t.like(entries[18], { packageName: 'rsyslog', evr: '8.24.0-57.0.1.el7_9.3', arch: 'x86_64' });
  // Without the comment fallback an undefined test says nothing.
  t.is(rpmDefinitionEntries(rsyslog!).length, 0);
});

maybe(`one reader for gzip, bzip2, zstd and plain files, told by magic bytes not names${suffix}`, async (t) => {
  const xml = zlib.gunzipSync(await readFile(PHOTON3()));
  const plain = await tempFile(t, 'photon.xml.gz', xml); // a misleading name
  const zstd = await tempFile(t, 'photon.xml', zlib.zstdCompressSync(xml));
  t.is(await sniffCompression(PHOTON3()), 'gzip');
  t.is(await sniffCompression(plain), 'none');
  t.is(await sniffCompression(zstd), 'zstd');
  const bz2 = fixture('feeds', 'redhat-oval-v2', 'RHEL8', 'ansible-2-including-unpatched.oval.xml.bz2');
  t.is(await sniffCompression(bz2), 'bzip2');
  t.is((await read(plain)).length, 222);
  t.is((await read(zstd)).length, 222);
  t.is((await read(bz2)).length, 5);
});

test('malformed XML fails with a FeedParseError naming the file, line and column', async (t) => {
  const file = await tempFile(t, 'broken.xml', '<oval_definitions>\n<definitions>\n<definition id="x" class="patch"><metadata><title>t</titel></metadata></definition>\n</definitions>\n</oval_definitions>\n');
  const err = await t.throwsAsync(read(file), { instanceOf: FeedParseError });
  t.regex(err!.message, /broken\.xml: malformed XML: .*3:/);
});

test('a document cut short fails instead of yielding a partial feed', async (t) => {
  const file = await tempFile(t, 'cut.xml', '<oval_definitions><definitions><definition id="a" class="patch"><metadata><title>x</title></metadata></definition>');
  await t.throwsAsync(read(file), { instanceOf: FeedParseError, message: /cut\.xml: malformed XML/ });
});

test('a document that is not OVAL is refused by its root element', async (t) => {
  const file = await tempFile(t, 'rss.xml', '<rss><channel><item/></channel></rss>');
  await t.throwsAsync(read(file), { instanceOf: FeedParseError, message: /not an OVAL definitions document \(root element <rss>\)/ });
});

test('an empty file fails clearly', async (t) => {
  const file = await tempFile(t, 'empty.xml', '');
  await t.throwsAsync(read(file), { instanceOf: FeedParseError });
});

test('entity expansion from a DTD is refused, not expanded', async (t) => {
  const xml = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><oval_definitions><definitions><definition id="a" class="patch"><metadata><title>&lol2;</title></metadata></definition></definitions></oval_definitions>';
  const file = await tempFile(t, 'dtd.xml', xml);
  await t.throwsAsync(read(file), { instanceOf: FeedParseError });
});

test('limits a stranger controls: text length, nesting depth, decompressed size', async (t) => {
  const long = await tempFile(t, 'long.xml', `<oval_definitions><definitions><definition id="a" class="patch"><metadata><title>${'x'.repeat(5000)}</title></metadata></definition></definitions></oval_definitions>`);
  await t.throwsAsync(read(long, { maxTextLength: 1000 }), { instanceOf: FeedParseError, message: /text of <title> longer than 1000 characters/ });
  const deep = await tempFile(t, 'deep.xml', `<oval_definitions>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</oval_definitions>`);
  await t.throwsAsync(read(deep, { maxDepth: 32 }), { instanceOf: FeedParseError, message: /nested deeper than 32/ });
  const bomb = await tempFile(t, 'bomb.xml.gz', zlib.gzipSync(Buffer.alloc(2_000_000, 0x20)));
  const err = await t.throwsAsync(collect(await openFeedFile(bomb, { maxBytes: 100_000 })));
  t.regex(err!.message, /bomb\.xml\.gz: more than 100000 bytes once decompressed/);
});

test('corrupt compressed data fails as a parse error, not a hang', async (t) => {
  const file = await tempFile(t, 'bad.bz2', Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(64, 0xab)]));
  await t.throwsAsync(read(file), { instanceOf: FeedParseError });
  const whole = zlib.gzipSync(`<oval_definitions><definitions>${'<definition id="a" class="patch"/>'.repeat(2000)}</definitions></oval_definitions>`);
  const gz = await tempFile(t, 'cut.gz', whole.subarray(0, whole.length - 40));
  await t.throwsAsync(read(gz), { instanceOf: FeedParseError, message: /cut\.gz: gzip decompression failed: unexpected end of file/ });
});

test('streamXmlElements yields selected subtrees as they close and stops early when asked', async (t) => {
  let pulled = 0;
  const chunks = ['<r><a n="1"><b>x</b></a>', '<a n="2"/>', '<c/>', '<a n="3"/></r>'];
  const input = Readable.from(
    (function* () {
      for (const c of chunks) {
        pulled++;
        yield c;
      }
    })(),
  );
  const got: string[] = [];
  for await (const el of streamXmlElements(input, { label: 'mem', select: (name) => name === 'a', stopAfter: (name) => name === 'c' })) got.push(el.attributes.n!);
  t.deepEqual(got, ['1', '2']);
  t.is(pulled, 3);
});

test('definitions stream out while the document is still being read; the second pass stops at </definitions>', async (t) => {
  const defs = 5_000;
  const progress: Array<{ emitted: number; tests: number }> = [];
  async function* generate(run: { emitted: number; tests: number }): AsyncGenerator<string> {
    yield '<oval_definitions><definitions>';
    for (let i = 0; i < defs; i++) {
      run.emitted++;
      yield `<definition id="oval:t:def:${i}" class="patch"><metadata><title>CVE-2020-${i}</title><description>${'d'.repeat(2000)}</description></metadata><criteria><criterion test_ref="oval:t:tst:${i}" comment="p${i} is earlier than 1.${i}"/></criteria></definition>`;
    }
    yield '</definitions><tests>';
    for (let i = 0; i < defs; i++, run.tests++) yield `<rpminfo_test id="oval:t:tst:${i}" check="at least one"><object object_ref="oval:t:obj:${i}"/><state state_ref="oval:t:ste:${i}"/></rpminfo_test>`;
    yield '</tests><objects>';
    for (let i = 0; i < defs; i++) yield `<rpminfo_object id="oval:t:obj:${i}"><name>p${i}</name></rpminfo_object>`;
    yield '</objects><states>';
    for (let i = 0; i < defs; i++) yield `<rpminfo_state id="oval:t:ste:${i}"><evr datatype="evr_string" operation="less than">0:1.${i}-1</evr></rpminfo_state>`;
    yield '</states></oval_definitions>';
  }
  const open = async (): Promise<Readable> => {
    const run = { emitted: 0, tests: 0 };
    progress.push(run);
    return Readable.from(generate(run), { objectMode: false });
  };
  let count = 0;
  let emittedAtFirst = -1;
  let last: OvalDefinition | null = null;
  for await (const def of readOvalDefinitions(open, { label: 'generated' })) {
    if (count === 0) emittedAtFirst = progress[1]!.emitted;
    count++;
    last = def;
  }
  t.is(count, defs);
  t.is(progress.length, 2);
  t.is(progress[0]!.tests, defs, 'the first pass indexes the whole document');
  t.true(emittedAtFirst > 0 && emittedAtFirst < defs / 2, `first definition out after ${emittedAtFirst} of ${defs} were produced`);
  // The second pass stops at </definitions>: at most a read-ahead buffer of the tests is produced.
  t.true(progress[1]!.tests < defs / 10, `second pass produced ${progress[1]!.tests} of ${defs} tests`);
  t.is(criteriaLeaves(last!.criteria)[0]!.test!.states[0]!.fields.evr!.value, `0:1.${defs - 1}-1`);
});

maybe(`the Mariner / Azure Linux OVAL reads with the same reader (greater-than and less-than states)${suffix}`, async (t) => {
  const defs = await read(fixture('feeds', 'mariner-azurelinux', 'mariner-2.0-oval-truncated.xml'));
  t.is(defs.length, 5);
  const golang = defs.find((d) => d.title.startsWith('CVE-2023-29404'))!;
  const ops = criteriaLeaves(golang.criteria).map((c) => c.test?.states[0]?.fields.evr?.operation);
  t.deepEqual(ops, ['less than', 'greater than']);
  t.deepEqual(criteriaLeaves(golang.criteria)[0]!.test!.object!.names, ['golang']);
});

test('records sharing a stored key fold into one: the most exposed state, else the highest fix, links kept', (t) => {
  const base = makeRecord({ updater: 'x', name: 'CVE-1', ecosystem: 'rpm', distribution: 'rhel:9', packageName: 'curl', state: 'fixed' });
  const merged = mergeSameKey(
    [
      { ...base, fixedVersion: '7.76.1-23.el9_2.4', links: ['a'] },
      { ...base, fixedVersion: '7.76.1-26.el9_3.2', links: ['b'] },
      { ...base, packageName: 'libcurl', fixedVersion: '1-1' },
      { ...base, packageName: 'libcurl', state: 'not_fixed', fixedVersion: null },
      { ...base, packageName: 'zlib', fixedVersion: '10-1' },
      { ...base, packageName: 'zlib', fixedVersion: '9-1' },
    ],
    rpmVersion,
  );
  t.deepEqual(
    merged.map((r) => [r.packageName, r.state, r.fixedVersion, r.links]),
    [
      ['curl', 'fixed', '7.76.1-26.el9_3.2', ['b', 'a']],
      ['libcurl', 'not_fixed', null, []],
      ['zlib', 'fixed', '10-1', []],
    ],
  );
});
