import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../src/config/config-error.ts';
import { envNameToPath, loadConfig } from '../src/config/load-config.ts';
import { runCli } from './helpers/cli.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-config-'));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig({ env, cwd: dir });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

test('the shipped defaults are valid and complete', (t) => {
  const config = loadConfig({ env: {}, cwd: dir });
  t.is(config.server.port, 8080);
  t.deepEqual(config.roles, ['api', 'worker', 'updater', 'notifier']);
  t.is(config.database.url, '');
  t.is(config.dataDir, path.join(dir, 'data'));
});

test('precedence: operator file < DATABASE_URL/PORT < LOOKOUT_* variables < flags', (t) => {
  const operator = file('precedence.yaml', 'server:\n  port: 9000\n  host: 127.0.0.1\nlog:\n  level: debug\n');
  const fromFile = loadConfig({ env: { LOOKOUT_CONFIG: operator }, cwd: dir });
  t.is(fromFile.server.port, 9000);
  t.is(fromFile.server.host, '127.0.0.1');
  t.is(fromFile.server.bodyLimitBytes, 1048576, 'keys the file does not name keep their defaults');

  const withPort = loadConfig({ env: { LOOKOUT_CONFIG: operator, PORT: '9100', DATABASE_URL: 'postgres://u:p@db:5432/x' }, cwd: dir });
  t.is(withPort.server.port, 9100);
  t.is(withPort.database.url, 'postgres://u:p@db:5432/x');

  const withEnv = loadConfig({ env: { LOOKOUT_CONFIG: operator, PORT: '9100', LOOKOUT_SERVER__PORT: '9200', LOOKOUT_ROLES: 'api,worker' }, cwd: dir });
  t.is(withEnv.server.port, 9200);
  t.deepEqual(withEnv.roles, ['api', 'worker']);

  const withFlags = loadConfig({ env: { LOOKOUT_SERVER__PORT: '9200' }, overrides: { server: { port: 9300 } }, cwd: dir });
  t.is(withFlags.server.port, 9300);
});

test('LOOKOUT_DATA_DIR and nested names map to keys', (t) => {
  t.deepEqual(envNameToPath('LOOKOUT_DATA_DIR'), ['dataDir']);
  t.deepEqual(envNameToPath('LOOKOUT_SERVER__BODY_LIMIT_BYTES'), ['server', 'bodyLimitBytes']);
  t.is(envNameToPath('LOOKOUT_server__port'), null);
  const config = loadConfig({ env: { LOOKOUT_DATA_DIR: 'elsewhere', LOOKOUT_JOBS__RETRY_LIMIT: '9' }, cwd: dir });
  t.is(config.dataDir, path.join(dir, 'elsewhere'));
  t.is(config.jobs.retryLimit, 9);
});

test('the configuration is frozen', (t) => {
  const config = loadConfig({ env: {}, cwd: dir });
  t.throws(() => {
    (config.server as { port: number }).port = 1;
  });
  t.is(config.server.port, 8080);
});

test('an unknown key in the operator file is reported with its path and file', (t) => {
  const operator = file('unknown.yaml', 'server:\n  prot: 80\nfeeeds: {}\n');
  const problems = problemsOf({ LOOKOUT_CONFIG: operator });
  t.true(problems.includes(`server.prot: unknown key (from ${operator})`), problems.join('\n'));
  t.true(problems.includes(`feeeds: unknown key (from ${operator})`), problems.join('\n'));
});

test('an unknown LOOKOUT_ variable is reported by its name', (t) => {
  const problems = problemsOf({ LOOKOUT_SERVER__PROT: '80' });
  t.deepEqual(problems, ['server.prot: unknown key (from LOOKOUT_SERVER__PROT)']);
});

test('a value of the wrong type is reported with its source', (t) => {
  const problems = problemsOf({ LOOKOUT_SERVER__PORT: 'eighty' });
  t.is(problems.length, 1);
  t.regex(problems[0]!, /^server\.port: .*expected number.* \(from LOOKOUT_SERVER__PORT\)$/);
});

test('out-of-range numbers, bad enums and bad URLs are each reported', (t) => {
  const problems = problemsOf({
    PORT: '70000',
    LOOKOUT_LOG__LEVEL: 'loud',
    LOOKOUT_ROLES: 'api,janitor',
    DATABASE_URL: 'mysql://root@db/x',
  });
  t.is(problems.length, 4, problems.join('\n'));
  t.true(problems.some((p) => p.startsWith('server.port: ') && p.endsWith('(from PORT)')));
  t.true(problems.some((p) => p.startsWith('log.level: ')));
  t.true(problems.some((p) => p.startsWith('roles.1: ')));
  t.true(problems.some((p) => p.startsWith('database.url: must be a postgres:// or postgresql:// URL')));
});

test('rules across keys are checked', (t) => {
  const problems = problemsOf({ LOOKOUT_JOBS__RETRY_DELAY_SECONDS: '60', LOOKOUT_JOBS__RETRY_DELAY_MAX_SECONDS: '10' });
  t.deepEqual(problems, ['jobs.retryDelayMaxSeconds: must be at least jobs.retryDelaySeconds (from LOOKOUT_JOBS__RETRY_DELAY_MAX_SECONDS)']);
});

test('invalid YAML and a missing file are reported, not thrown raw', (t) => {
  const broken = file('broken.yaml', 'server:\n  port: [1, 2\n');
  const yamlProblems = problemsOf({ LOOKOUT_CONFIG: broken });
  t.is(yamlProblems.length, 1);
  t.regex(yamlProblems[0]!, /^LOOKOUT_CONFIG \(.*broken\.yaml\): invalid YAML at line \d+, column \d+/);

  const missing = problemsOf({ LOOKOUT_CONFIG: path.join(dir, 'nope.yaml') });
  t.deepEqual(missing, [`LOOKOUT_CONFIG (${path.join(dir, 'nope.yaml')}): cannot read the file (ENOENT)`]);

  const scalar = problemsOf({ LOOKOUT_CONFIG: file('scalar.yaml', 'just a string\n') });
  t.deepEqual(scalar, [`LOOKOUT_CONFIG (${path.join(dir, 'scalar.yaml')}): the file must hold a mapping of keys`]);
});

test('every problem is listed at once', (t) => {
  const operator = file('many.yaml', 'server:\n  port: -1\n  extra: true\njobs:\n  concurrency: 0\n');
  const problems = problemsOf({ LOOKOUT_CONFIG: operator, LOOKOUT_METRICS__ENABLED: 'maybe' });
  t.is(problems.length, 4, problems.join('\n'));
});

test('a secret in a bad value never appears in the problems', (t) => {
  const problems = problemsOf({ DATABASE_URL: 'mysql://admin:hunter2-secret@db/x', LOOKOUT_SERVER__PORT: 'hunter3-secret' });
  t.is(problems.length, 2);
  for (const p of problems) t.false(p.includes('hunter'), p);
});

test('lookout serve with a bad config lists the problems and exits 78 without a stack trace', async (t) => {
  const result = await runCli(['serve'], { LOOKOUT_SERVER__PORT: 'x', LOOKOUT_NOPE: '1', DATABASE_URL: 'postgres://u:topsecret@127.0.0.1:1/x' });
  t.is(result.status, 78, result.stderr);
  t.regex(result.stderr, /^lookout: invalid configuration:\n/);
  t.regex(result.stderr, /  - server\.port: .*\(from LOOKOUT_SERVER__PORT\)/);
  t.regex(result.stderr, /  - nope: unknown key \(from LOOKOUT_NOPE\)/);
  t.notRegex(result.stderr, /\bat .*\.ts:\d+/, 'no stack trace');
  t.false(result.stderr.includes('topsecret'));
});

test('lookout config prints the effective configuration with secrets masked', async (t) => {
  const result = await runCli(['config'], { DATABASE_URL: 'postgres://scanner:topsecret@db.internal:5432/lookout' });
  t.is(result.status, 0, result.stderr);
  t.false(result.stdout.includes('topsecret'));
  t.regex(result.stdout, /url: postgres:\/\/\*\*\*:\*\*\*@db\.internal:5432\/lookout/);
});
