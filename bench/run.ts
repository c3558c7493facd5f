/**
 * `npm run bench [-- NAME…]`: runs every `bench/*-bench.ts` (or those whose name contains one of
 * the arguments) and prints one JSON line per figure on stdout; progress goes to stderr.
 * A PostgreSQL server to compare the embedded engine with: BENCH_DATABASE_URL, else TEST_DATABASE_URL.
 */
import { mkdtemp, readdir, rm, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchContext, Figure } from './figure.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const names = (await readdir(dir))
  .filter((f) => f.endsWith('-bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

let failed = 0;
for (const file of names) {
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'lookout-bench-'));
  await chmod(tmpDir, 0o755); // an embedded server started as root runs as another user
  const context: BenchContext = {
    emit(figure: Figure) {
      process.stdout.write(`${JSON.stringify(figure)}\n`);
    },
    serverUrl: process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || null,
    tmpDir,
    log(message: string) {
      process.stderr.write(`[${file}] ${message}\n`);
    },
  };
  const started = performance.now();
  try {
    const bench = (await import(pathToFileURL(path.join(dir, file)).href)) as { default: Bench };
    await bench.default(context);
    context.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    failed += 1;
    context.log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}
process.exit(failed === 0 ? 0 : 1);
