import test from 'ava';
import { readdirSync } from 'node:fs';
import { createJavaArchiveScanner, javaArchiveScanner } from '../../../src/ecosystems/maven/java-archive-scanner.ts';
import { isJavaArchiveName, splitJarFileName } from '../../../src/ecosystems/maven/jar-file-name.ts';
import { coordinatesFromManifest } from '../../../src/ecosystems/maven/manifest-coordinates.ts';
import { parseJarManifest } from '../../../src/ecosystems/maven/parse-jar-manifest.ts';
import { parseJavaProperties } from '../../../src/ecosystems/maven/parse-java-properties.ts';
import { DEFAULT_JAVA_ARCHIVE_LIMITS } from '../../../src/ecosystems/maven/read-java-archive.ts';
import { HAVE_FIXTURES, NO_FIXTURES, fixture } from '../../helpers/fixtures.ts';
import { ids, layerFor, readFixture, REGULAR, type LayerEntry } from './layer-files.ts';
import { makeZip } from './make-zip.ts';

const fixtureTest = HAVE_FIXTURES ? test : test.skip;
const SKIP = HAVE_FIXTURES ? '' : NO_FIXTURES;

function java(layerPath: string, name: string): LayerEntry {
  return { path: layerPath, data: readFixture('pkgdb', 'java', name) };
}

fixtureTest(`a war: its own pom.properties and every jar in WEB-INF/lib${SKIP}`, async (t) => {
  const { layer } = await layerFor(javaArchiveScanner, [java('usr/local/tomcat/webapps/app.war', 'trivy-test.war.gz')]);
  t.true(layer.files.get('usr/local/tomcat/webapps/app.war')!.data.length < 8192, 'only the findings are kept, not the archive');
  const result = await javaArchiveScanner.scan(layer);
  t.deepEqual(ids(result.packages), [
    'com.example:web-app@1.0-SNAPSHOT',
    'org.glassfish:javax.el@3.0.0',
    'com.fasterxml.jackson.core:jackson-databind@2.9.10.6',
    'com.fasterxml.jackson.core:jackson-annotations@2.9.10',
    'com.fasterxml.jackson.core:jackson-core@2.9.10',
    'org.slf4j:slf4j-api@1.7.30',
    'com.cronutils:cron-utils@9.1.2',
    'org.apache.commons:commons-lang3@3.11',
  ]);
  t.deepEqual(result.packages?.[2], {
    ecosystem: 'maven',
    name: 'com.fasterxml.jackson.core:jackson-databind',
    version: '2.9.10.6',
    purl: 'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10.6',
    path: 'usr/local/tomcat/webapps/app.war',
    extra: {
      source: 'pom.properties',
      location: 'WEB-INF/lib/jackson-databind-2.9.10.6.jar!/META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties',
    },
  });
  t.deepEqual(result.notes, []);
});

fixtureTest(`nested, shaded, manifest-only and unidentifiable jars${SKIP}`, async (t) => {
  const { layer } = await layerFor(javaArchiveScanner, [
    java('opt/a/nested.jar', 'trivy-nested.jar'),
    java('opt/b/hadoop-shaded-guava-1.1.0-SNAPSHOT.jar', 'trivy-hadoop-shaded-guava-1.1.0-SNAPSHOT.jar'),
    java('opt/c/spring-core-2.5.6.SEC03.jar', 'trivy-test.jar'),
    java('opt/d/test.jar', 'trivy-test.jar'),
    java('opt/e/heuristic-1.0.0-SNAPSHOT.jar', 'trivy-heuristic-1.0.0-SNAPSHOT.jar'),
    java('opt/f/app.jar', 'claircore-inner.jar'),
    java('opt/g/README.txt', 'trivy-test.jar'),
  ]);
  const result = await javaArchiveScanner.scan(layer);
  t.deepEqual(ids(result.packages), [
    'test:nested@0.0.1',
    'test:nested2@0.0.2',
    'test:nested3@0.0.3',
    'org.apache.hadoop.thirdparty:hadoop-shaded-guava@1.1.0-SNAPSHOT',
    'com.google.j2objc:j2objc-annotations@1.3',
    'com.google.guava:guava@29.0-jre',
    'com.google.guava:failureaccess@1.0.1',
    'com.google.guava:listenablefuture@9999.0-empty-to-avoid-conflict-with-guava',
    'org.springframework:spring-core@2.5.6.SEC03',
  ]);
  t.is(result.packages?.[2]?.extra?.location, 'META-INF/jars/nested2.jar!/META-INF/jars/nested3.jar!/META-INF/nested3/pom.properties');
  t.like(result.packages?.[8], { path: 'opt/c/spring-core-2.5.6.SEC03.jar', extra: { source: 'manifest', location: 'META-INF/MANIFEST.MF' } });
  const unidentified = (result.notes ?? []).map((note) => note.slice(0, note.indexOf(':')));
  t.deepEqual(unidentified, [
    'opt/d/test.jar',
    'opt/e/heuristic-1.0.0-SNAPSHOT.jar',
    'opt/f/app.jar',
    'opt/f/app.jar!/BOOT-INF/lib/jackson-annotations-2.13.0.jar',
    'opt/f/app.jar!/BOOT-INF/lib/log4j-api-2.14.jar',
    'opt/f/app.jar!/BOOT-INF/lib/log4j-api-2.14.jar!/META-INF/inner-jar/log4j-2.14.0.jar',
    'opt/f/app.jar!/BOOT-INF/lib/log4j-api-2.14.jar!/META-INF/inner-jar/something-invalid.jar',
  ]);
  t.true((result.notes ?? []).every((note) => note.endsWith('could not be told from the manifest or file name; not reported')));
});

fixtureTest(`manifest heuristics against the pom.properties of the same real jars${SKIP}`, (t) => {
  const dir = fixture('pkgdb', 'java', 'claircore-manifest');
  const guesses: Record<string, string> = {};
  const truth: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.MANIFEST.MF')).sort()) {
    const jar = file.replace(/\.MANIFEST\.MF$/, '');
    const guess = coordinatesFromManifest(parseJarManifest(readFixture('pkgdb', 'java', 'claircore-manifest', file).toString('utf8')), `${jar}.jar`);
    guesses[jar] = 'missing' in guess ? `(no ${guess.missing})` : `${guess.groupId}:${guess.artifactId}@${guess.version}`;
    const pom = parseJavaProperties(readFixture('pkgdb', 'java', 'claircore-pom-properties', `${jar}.pom.properties`).toString('utf8'));
    truth[jar] = `${pom.get('groupId')}:${pom.get('artifactId')}@${pom.get('version')}`;
  }
  t.deepEqual(guesses, {
    'HdrHistogram-2.1.9': truth['HdrHistogram-2.1.9'],
    'commons-codec-1.9': 'org.apache:commons-codec@1.9', // truth: commons-codec:commons-codec (not in the manifest)
    'guava-27.0-jre': 'com.google:guava@27.0-jre', // truth: com.google.guava:guava (ambiguous symbolic name)
    'jackson-databind-2.9.10.8': truth['jackson-databind-2.9.10.8'],
    'java-cup-runtime-11b-20160615': '(no groupId)',
    'jbcrypt-0.3m': '(no groupId)',
    'log4j-over-slf4j-1.7.25': '(no groupId)',
    'logback-classic-1.2.3': truth['logback-classic-1.2.3'],
    'netty-all-4.1.58.Final': truth['netty-all-4.1.58.Final'],
    'snakeyaml-1.26': truth['snakeyaml-1.26'],
  });
  t.is(truth['logback-classic-1.2.3'], 'ch.qos.logback:logback-classic@1.2.3');
});

test('archive names, file name heuristic, properties and manifest parsing', (t) => {
  t.true(isJavaArchiveName('x/y.JAR'));
  t.true(isJavaArchiveName('plugins/git.hpi'));
  t.true(isJavaArchiveName('plugins/git.jpi'));
  t.false(isJavaArchiveName('x/jar'));
  t.deepEqual(splitJarFileName('lib/java-cup-runtime-11b-20160615.jar'), { artifactId: 'java-cup-runtime', version: '11b-20160615' });
  t.deepEqual(splitJarFileName('log4j-2.14.0.jar'), { artifactId: 'log4j', version: '2.14.0' });
  t.deepEqual(splitJarFileName('app.war'), { artifactId: 'app', version: null });
  const props = parseJavaProperties('# c\n! c\n  groupId = org.x\nartifactId:a\\\n   b\nversion 1.0\\u0041\nkey\\=with\\:esc=v\n');
  t.deepEqual([...props], [['groupId', 'org.x'], ['artifactId', 'ab'], ['version', '1.0A'], ['key=with:esc', 'v']]);
  const manifest = parseJarManifest('Manifest-Version: 1.0\r\nBundle-SymbolicName: org.ex\r\n ample.core;singleton:=true\r\n\r\nName: x\r\nBundle-Version: 9\r\n');
  t.deepEqual([...manifest], [['manifest-version', '1.0'], ['bundle-symbolicname', 'org.example.core;singleton:=true']]);
});

test('hostile archives: not a zip, truncated, bombs, lying sizes, too many entries, too deep, budgets', async (t) => {
  const pom = (g: string, a: string, v: string): string => `groupId=${g}\nartifactId=${a}\nversion=${v}\n`;
  const good = makeZip([{ name: 'META-INF/maven/g/ok/pom.properties', data: pom('g', 'ok', '1.0') }]);
  let deep = makeZip([{ name: 'META-INF/maven/g/level6/pom.properties', data: pom('g', 'level6', '1') }]);
  for (let level = 5; level >= 0; level--) {
    deep = makeZip([
      { name: `META-INF/maven/g/level${level}/pom.properties`, data: pom('g', `level${level}`, '1') },
      { name: `lib/level${level + 1}.jar`, data: deep },
    ]);
  }
  const limits = { ...DEFAULT_JAVA_ARCHIVE_LIMITS, maxDepth: 3, maxEntries: 100, maxNestedBytes: 1024 * 1024, maxMetadataBytes: 4096, maxInflatedBytes: 3 * 1024 * 1024, maxArchives: 4 };
  const scanner = createJavaArchiveScanner({ maxArchiveBytes: 4 * 1024 * 1024, limits });
  const random = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 2654435761 + seed) >>> 24));
  const entries: LayerEntry[] = [
    { path: 'a/not-a-zip.jar', data: Buffer.from('just text, not an archive') },
    { path: 'b/truncated.jar', data: good.subarray(0, good.length - 10) },
    { path: 'c/bomb.jar', data: makeZip([{ name: 'META-INF/maven/g/c/pom.properties', data: pom('g', 'c', '1') }, { name: 'lib/zeros.jar', data: Buffer.alloc(16 * 1024 * 1024) }]) },
    { path: 'd/lying.jar', data: makeZip([{ name: 'META-INF/maven/g/d/pom.properties', data: Buffer.concat([Buffer.from(pom('g', 'd', '1')), Buffer.alloc(1024 * 1024, 0x20)]), declaredSize: 50 }]) },
    { path: 'e/big-pom.jar', data: makeZip([{ name: 'META-INF/maven/g/e/pom.properties', data: pom('g', 'e', '1') + '#'.repeat(10_000) }]) },
    { path: 'f/many.jar', data: makeZip(Array.from({ length: 150 }, (_, i) => ({ name: `f${i}.class`, data: '' }))) },
    { path: 'g/deep.jar', data: deep },
    { path: 'h/budget.war', data: makeZip([
      { name: 'META-INF/maven/g/h/pom.properties', data: pom('g', 'h', '1') },
      ...[1, 2, 3, 4].map((i) => ({
        name: `WEB-INF/lib/x${i}.jar`,
        data: makeZip([{ name: 'META-INF/maven/g/ok/pom.properties', data: pom('g', 'ok', '1.0') }, { name: 'pad.bin', data: random(900 * 1024, i), store: true }]),
        store: true,
      })),
    ]) },
    { path: 'i/too-big.ear', data: Buffer.concat([good, Buffer.alloc(5 * 1024 * 1024)]) },
    { path: 'j/unresolved.jar', data: makeZip([{ name: 'META-INF/maven/g/j/pom.properties', data: pom('g', 'j', '${project.version}') }]) },
    { path: 'k/many-nested.jar', data: makeZip(Array.from({ length: 6 }, (_, i) => ({ name: `lib/n${i}.jar`, data: good }))) },
  ];
  const { layer } = await layerFor(scanner, entries.map((e) => ({ ...e, mode: REGULAR })));
  const result = await scanner.scan(layer);
  t.deepEqual(ids(result.packages), [
    'g:c@1',
    'g:level0@1', 'g:level1@1', 'g:level2@1', 'g:level3@1',
    'g:h@1', 'g:ok@1.0',
    'g:ok@1.0',
  ]);
  const notes = result.notes ?? [];
  const about = (prefix: string): string[] => notes.filter((note) => note.startsWith(prefix));
  t.regex(about('a/not-a-zip.jar')[0] ?? '', /not a readable zip archive/);
  t.regex(about('b/truncated.jar')[0] ?? '', /not a readable zip archive/);
  t.deepEqual(about('c/bomb.jar'), ['c/bomb.jar: lib/zeros.jar inflates to 16777216 bytes, more than the 1048576-byte limit; skipped']);
  t.is(about('d/lying.jar').length, 2);
  t.regex(about('d/lying.jar')[0] ?? '', /pom\.properties (could not be inflated|inflates past)/);
  t.deepEqual(about('e/big-pom.jar')[0], 'e/big-pom.jar: META-INF/maven/g/e/pom.properties inflates to 10033 bytes, more than the 4096-byte limit; skipped');
  t.deepEqual(about('f/many.jar'), ['f/many.jar: 150 zip entries, more than the 100 allowed; not read']);
  t.deepEqual(about('g/deep.jar'), ['g/deep.jar!/lib/level1.jar!/lib/level2.jar!/lib/level3.jar: archives nested deeper than 3 levels are not read']);
  t.true(about('h/budget.war').some((note) => note.includes('would take the inflated total past 3145728 bytes')));
  t.deepEqual(about('i/too-big.ear'), [`i/too-big.ear: archive of ${good.length + 5 * 1024 * 1024} bytes is larger than the 4194304-byte limit; not read`]);
  t.deepEqual(about('j/unresolved.jar'), [
    'j/unresolved.jar: META-INF/maven/g/j/pom.properties lacks a usable groupId, artifactId or version; skipped',
    'j/unresolved.jar: no pom.properties and the groupId of "unresolved" could not be told from the manifest or file name; not reported',
  ]);
  t.true(about('k/many-nested.jar').includes('k/many-nested.jar: more than 4 nested archives; the rest are not read'));
  t.is(result.packages?.filter((p) => p.path === 'k/many-nested.jar').length, 1, 'the same artifact in several nested jars of one file is listed once');
});

test('raw archive bytes handed to scan directly are read too', async (t) => {
  const zip = makeZip([{ name: 'META-INF/maven/org.x/y/pom.properties', data: 'groupId=org.x\nartifactId=y\nversion=2.0\n' }]);
  const files = new Map([['lib/y-2.0.jar', { path: 'lib/y-2.0.jar', size: zip.length, mode: REGULAR, data: zip }]]);
  const result = await javaArchiveScanner.scan({ files, symlinks: new Map() });
  t.deepEqual(ids(result.packages), ['org.x:y@2.0']);
});
