import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './figure.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * `lookout serve --roles api` in its own process (so a load generator does not share its event
 * loop), on `port`, with `env` added; resolves once `/readyz` answers 200. Without a database URL
 * it runs on the embedded engine in the bench's scratch directory.
 */
export async function startServe(ctx: BenchContext, port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'src/cli/main.ts'), 'serve', '--roles', 'api'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      LOOKOUT_SERVER__HOST: '127.0.0.1',
      LOOKOUT_DATA_DIR: path.join(ctx.tmpDir, 'data'),
      LOOKOUT_LOG__LEVEL: 'warn',
      LOOKOUT_FEEDS__ENABLED: 'false',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('lookout did not become ready');
}

/** Stops a process from {@link startServe} and waits for it to exit. */
export async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
