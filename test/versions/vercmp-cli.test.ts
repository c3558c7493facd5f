import test from 'ava';
import { PassThrough, Readable, Writable } from 'node:stream';
import { compareLine, runVercmpBatch } from '../../src/cli/vercmp-command.ts';
import { dpkgVersion } from '../../src/ecosystems/dpkg/dpkg-version.ts';
import { runCli } from '../helpers/cli.ts';

// The CLI tests run one at a time: each spawns a Node process, and the machine may be small.
test.serial('vercmp prints <, = or > and exits 0', async (t) => {
  const cases: Array<[string[], string]> = [
    [['dpkg', '1.0', '1.0-1'], '<'],
    [['dpkg', '1:0.1', '2.0'], '>'],
    [['rpm', '1.0^git1', '1.0'], '>'],
    [['pypi', '1.0.post0', '1.0-0'], '='],
    [['npm', '1.2.3-beta', '1.2.3'], '<'],
  ];
  const results = [];
  for (const [args] of cases) results.push(await runCli(['vercmp', ...args]));
  results.forEach((result, i) => {
    t.is(result.status, 0, result.stderr);
    t.is(result.stdout, `${cases[i]![1]}\n`, cases[i]![0].join(' '));
    t.is(result.stderr, '');
  });
});

test.serial('vercmp: an invalid version, an unknown ecosystem or missing versions exit 2 with one line on stderr', async (t) => {
  const invalid = await runCli(['vercmp', 'dpkg', '1.0', 'a1']);
  const unknown = await runCli(['vercmp', 'debian', '1', '2']);
  const missing = await runCli(['vercmp', 'go', 'v1.0.0']);
  t.is(invalid.status, 2);
  t.is(invalid.stdout, '');
  t.is(invalid.stderr, 'lookout: invalid dpkg version "a1": version number does not start with digit\n');
  t.is(unknown.status, 2);
  t.is(unknown.stderr, 'lookout: unknown ecosystem "debian"; valid: dpkg, rpm, apk, pypi, npm, go, maven, gem\n');
  t.is(missing.status, 2);
  t.is(missing.stderr.split('\n').length, 2);
});

test.serial('vercmp --batch answers every line in order, ! for invalid ones, and carries on', async (t) => {
  const input = ['1.0\t1.0-1', '2:1\t1:9', 'no tab here', 'x\t1', '', '1.0~rc1\t1.0\r', '1\t1\textra', '1.0\t1.0'].join('\n'); // no final newline
  const result = await runCli(['vercmp', 'dpkg', '--batch'], {}, { input });
  t.is(result.status, 0, result.stderr);
  t.is(result.stdout, ['<', '>', '!', '!', '!', '<', '!', '='].join('\n') + '\n');
});

test.serial('vercmp --batch: 100,000 pairs in a few seconds', async (t) => {
  const pairs = ['1.0-1\t1.0-2', '1:2.3~rc1-1\t1:2.3-1', '2.30\t2.4', '7.6p2-4\t7.6-0', 'bad\t1'];
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) lines.push(pairs[i % pairs.length]!);
  // Process start (loading the whole CLI) is measured apart, so the figure is the batch itself.
  let started = performance.now();
  await runCli(['vercmp', 'dpkg', '--batch'], {}, { input: '1\t2\n' });
  const startup = (performance.now() - started) / 1000;
  started = performance.now();
  const result = await runCli(['vercmp', 'dpkg', '--batch'], {}, { input: `${lines.join('\n')}\n`, timeoutMs: 60_000 });
  const seconds = (performance.now() - started) / 1000 - startup;
  t.is(result.status, 0, result.stderr);
  const out = result.stdout.split('\n');
  t.is(out.length, 100_001);
  t.deepEqual(out.slice(0, 5), ['<', '<', '>', '>', '!']);
  t.true(seconds < 5, `took ${seconds.toFixed(2)} s beyond process start`);
  t.log(`100,000 pairs in ${seconds.toFixed(2)} s beyond a ${startup.toFixed(2)} s process start`);
});

test('runVercmpBatch streams: lines split across chunks, multi-byte characters, bounded line length', async (t) => {
  const text = '1.0\t1.0-1\n2.0\t1.0\n1.0é\t1.0\n' + `${'1'.repeat(100)}\t1\n` + '1.0\t1.0\n';
  // Three-byte chunks cut lines and the two-byte é in the middle.
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.subarray(i, i + 3));
  const output = new PassThrough();
  let written = '';
  output.on('data', (d: Buffer) => (written += d.toString()));
  const result = await runVercmpBatch(dpkgVersion, Readable.from(chunks), output, 50);
  t.is(written, '<\n>\n!\n!\n=\n');
  t.deepEqual(result, { lines: 5, invalid: 2 });
});

test('runVercmpBatch drops an overlong line as it arrives, without buffering it whole', async (t) => {
  async function* source(): AsyncGenerator<string> {
    yield '1\t2\n';
    for (let i = 0; i < 1000; i++) yield '9'.repeat(1000); // a 1 MB line, never ended until here:
    yield '\n2\t1\n';
  }
  const output = new PassThrough();
  let written = '';
  output.on('data', (d: Buffer) => (written += d.toString()));
  const result = await runVercmpBatch(dpkgVersion, Readable.from(source()), output, 4096);
  t.is(written, '<\n!\n>\n');
  t.is(result.lines, 3);
});

test('runVercmpBatch stops reading and rejects when its output fails (a reader gone away)', async (t) => {
  let pulled = 0;
  async function* endless(): AsyncGenerator<string> {
    for (;;) {
      pulled++;
      yield '1\t2\n'.repeat(1000);
    }
  }
  const broken = new Writable({
    highWaterMark: 1,
    write(_chunk, _encoding, done) {
      done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  const err = await t.throwsAsync(runVercmpBatch(dpkgVersion, Readable.from(endless()), broken));
  t.is((err as { code?: string }).code, 'EPIPE');
  t.true(pulled < 10, `read ${pulled} chunks after the failure`);
});

test('compareLine', (t) => {
  t.is(compareLine(dpkgVersion, '1\t2'), '<');
  t.is(compareLine(dpkgVersion, '1\t2\r'), '<');
  t.is(compareLine(dpkgVersion, '1 2'), '!');
  t.is(compareLine(dpkgVersion, '\t'), '!');
});
