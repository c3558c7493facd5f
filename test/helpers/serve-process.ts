import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './cli.ts';

/** A `lookout serve` child process and the JSON log lines it has written so far. */
export interface ServeProcess {
  child: ChildProcess;
  port: number;
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** Starts `lookout serve` with `env` and waits for `server listening` (rejects if it exits first). */
export function startServe(env: NodeJS.ProcessEnv, args: string[] = [], timeoutMs = 60_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['src/cli/main.ts', 'serve', ...args], {
    cwd: ROOT,
    // Feeds off: a test never reaches the real feed servers.
    env: { PATH: process.env.PATH, PORT: '0', LOOKOUT_SERVER__HOST: '127.0.0.1', LOOKOUT_FEEDS__ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffer = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lookout serve did not listen within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === 'server listening') {
            clearTimeout(timer);
            resolve({ child, port: entry.port as number, logs, stderr: () => stderr, exited });
          }
        } catch {
          /* not a log line */
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`lookout serve exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
}
