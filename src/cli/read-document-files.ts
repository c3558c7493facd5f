import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** A file a CLI command was given, read whole. */
export interface DocumentFile {
  name: string;
  text: string;
}

/** Thrown for a path that cannot be read as documents (missing, too big, too many files). */
export class DocumentFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentFileError';
  }
}

/**
 * Reads one file, `-` (standard input), or every `*.json` file of a directory (its subdirectories
 * too, in name order), refusing a file over `maxBytes` and more than `maxFiles` files.
 */
export async function readDocumentFiles(target: string, limits: { maxBytes: number; maxFiles: number }): Promise<DocumentFile[]> {
  if (target === '-') return [{ name: 'stdin', text: await readStdin(limits.maxBytes) }];
  let info;
  try {
    info = await stat(target);
  } catch (err) {
    throw new DocumentFileError(`cannot read ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const files: string[] = [];
  if (info.isDirectory()) {
    const walk = async (dir: string, depth: number): Promise<void> => {
      if (depth > 8) return;
      const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p, depth + 1);
        else if (e.isFile() && e.name.endsWith('.json')) {
          files.push(p);
          if (files.length > limits.maxFiles) throw new DocumentFileError(`${target} holds more than ${limits.maxFiles} .json files`);
        }
      }
    };
    await walk(target, 0);
    if (files.length === 0) throw new DocumentFileError(`${target} holds no .json file`);
  } else {
    files.push(target);
  }
  const out: DocumentFile[] = [];
  for (const file of files) {
    const size = (await stat(file)).size;
    if (size > limits.maxBytes) throw new DocumentFileError(`${file} is ${size} bytes, over the limit of ${limits.maxBytes}`);
    out.push({ name: file, text: await readFile(file, 'utf8') });
  }
  return out;
}

async function readStdin(maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new DocumentFileError(`standard input is over the limit of ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
