import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';
import { VERSION_SCHEMES, InvalidVersionError, type VersionScheme } from '../ecosystems/version-scheme.ts';
import { UnknownVersionSchemeError, versionScheme } from '../ecosystems/version-schemes.ts';
import { EXIT } from './exit-codes.ts';

/** The longest `A<TAB>B` line `--batch` reads; a longer one is answered `!` and skipped. */
export const MAX_BATCH_LINE_LENGTH = 64 * 1024;

/** What `vercmp` prints for a comparison result. */
export function vercmpSymbol(result: number): '<' | '=' | '>' {
  return result < 0 ? '<' : result > 0 ? '>' : '=';
}

/** One batch line: the symbol for `A<TAB>B`, or `!` when the line is not two valid versions. */
export function compareLine(scheme: VersionScheme, line: string): string {
  const end = line.endsWith('\r') ? line.length - 1 : line.length;
  const tab = line.indexOf('\t');
  if (tab === -1 || line.indexOf('\t', tab + 1) !== -1) return '!';
  try {
    return vercmpSymbol(scheme.compare(line.slice(0, tab), line.slice(tab + 1, end)));
  } catch (err) {
    if (err instanceof InvalidVersionError) return '!';
    throw err;
  }
}

/** Counts of what a batch run saw. */
export interface BatchResult {
  lines: number;
  invalid: number;
}

/**
 * `vercmp --batch`: reads `A<TAB>B` lines from `input` and writes one symbol per line to
 * `output`, in order, `!` for an invalid pair or a line over {@link MAX_BATCH_LINE_LENGTH}.
 * Streams: memory stays bounded by the line limit and one input chunk, and output waits for
 * `output` to drain. Rejects with the output's error (EPIPE when the reader went away) and stops
 * reading when the output fails.
 */
export async function runVercmpBatch(scheme: VersionScheme, input: Readable, output: Writable, maxLineLength = MAX_BATCH_LINE_LENGTH): Promise<BatchResult> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let skipping = false; // inside an overlong line, waiting for its end
  let lines = 0;
  let invalid = 0;
  let failure: Error | null = null;
  const onError = (err: Error): void => {
    failure ??= err;
  };
  output.on('error', onError);
  const answer = (symbol: string, out: string[]): void => {
    lines++;
    if (symbol === '!') invalid++;
    out.push(symbol);
  };
  const flush = async (out: string[]): Promise<void> => {
    if (out.length === 0 || failure !== null) return;
    if (output.write(`${out.join('\n')}\n`)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        output.off('drain', done);
        output.off('error', done);
        output.off('close', done);
        resolve();
      };
      output.on('drain', done);
      output.on('error', done);
      output.on('close', done);
    });
  };
  const consume = (text: string, out: string[]): void => {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      if (skipping) {
        skipping = false;
      } else {
        const line = pending === '' ? text.slice(start, nl) : pending + text.slice(start, nl);
        pending = '';
        answer(line.length > maxLineLength ? '!' : compareLine(scheme, line), out);
      }
      start = nl + 1;
    }
    if (skipping) return;
    pending += text.slice(start);
    if (pending.length > maxLineLength) {
      // Answer now and drop the rest of this line as it arrives.
      pending = '';
      skipping = true;
      answer('!', out);
    }
  };
  try {
    for await (const chunk of input) {
      if (failure !== null) break;
      const out: string[] = [];
      consume(typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer), out);
      await flush(out);
    }
    const out: string[] = [];
    consume(decoder.end(), out);
    if (!skipping && pending !== '') answer(pending.length > maxLineLength ? '!' : compareLine(scheme, pending), out);
    await flush(out);
  } finally {
    output.off('error', onError);
  }
  if (failure !== null) throw failure;
  return { lines, invalid };
}

interface VercmpFlags {
  batch?: boolean;
}

/**
 * `lookout vercmp ECOSYSTEM A B` prints `<`, `=` or `>` (A compared with B) and exits 0;
 * `lookout vercmp ECOSYSTEM --batch` compares `A<TAB>B` lines from stdin. An unknown ecosystem,
 * an invalid version or a wrong argument count exits 2 with a one-line message on stderr.
 */
export async function vercmpCommand(ecosystem: string, a: string | undefined, b: string | undefined, flags: VercmpFlags): Promise<void> {
  let scheme: VersionScheme;
  try {
    scheme = versionScheme(ecosystem);
  } catch (err) {
    if (!(err instanceof UnknownVersionSchemeError)) throw err;
    process.stderr.write(`lookout: unknown ecosystem ${JSON.stringify(ecosystem)}; valid: ${VERSION_SCHEMES.join(', ')}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  if (flags.batch) {
    if (a !== undefined) {
      process.stderr.write('lookout: vercmp --batch reads pairs from stdin and takes no versions as arguments\n');
      process.exitCode = EXIT.usage;
      return;
    }
    // A reader that goes away (`| head`) ends the run quietly, as it ends `dpkg` or `sort`.
    const quiet = (): void => {};
    process.stdout.on('error', quiet);
    try {
      await runVercmpBatch(scheme, process.stdin, process.stdout);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EPIPE') throw err;
    }
    return;
  }
  if (a === undefined || b === undefined) {
    process.stderr.write('lookout: vercmp needs two versions (or --batch): lookout vercmp ECOSYSTEM A B\n');
    process.exitCode = EXIT.usage;
    return;
  }
  try {
    process.stdout.write(`${vercmpSymbol(scheme.compare(a, b))}\n`);
  } catch (err) {
    if (!(err instanceof InvalidVersionError)) throw err;
    process.stderr.write(`lookout: ${err.message}\n`);
    process.exitCode = EXIT.usage;
  }
}
