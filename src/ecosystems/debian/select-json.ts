import { createReadStream } from 'node:fs';
import Assembler from 'stream-json/assembler.js';
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { getManyValues, isMany, none } from 'stream-chain/defs.js';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';

/** Where a value sits in a JSON document: object keys and array indexes from the top. */
export type JsonPath = readonly (string | number)[];

/** A value picked out of a document, assembled whole, with its path. */
export interface SelectedJson {
  path: (string | number)[];
  value: unknown;
}

/** What {@link selectJson} picks out, and its limits. */
export interface SelectJsonOptions {
  /**
   * Called with the path of every value met outside a selected one: true means "assemble this
   * value and yield it" (it is not descended into); false means "walk through it" (its own values
   * are offered in turn; primitives are skipped).
   */
  select(path: JsonPath): boolean;
  /** What the input is, for error messages (`Debian security tracker JSON`). */
  what: string;
  /** Deepest nesting accepted anywhere in the document. Default 64. */
  maxDepth?: number;
  /** Most tokens one selected value may have (bounds the memory of one record). Default 2,000,000. */
  maxValueTokens?: number;
}

/** Input chunk size: small reads keep the tokenizer's working set (and peak RSS) low. */
const CHUNK = 64 * 1024;

/**
 * Streams a JSON document and yields the values `select` picks, each assembled whole, in document
 * order — never the whole document in memory. Built on stream-json's tokenizer and assembler.
 * Malformed JSON, invalid UTF-8, nesting deeper than `maxDepth` or a selected value larger than
 * `maxValueTokens` throw a {@link FeedParseError} naming `what` and the byte offset.
 */
export async function* selectJson(input: AsyncIterable<Buffer | string>, options: SelectJsonOptions): AsyncGenerator<SelectedJson> {
  const maxDepth = options.maxDepth ?? 64;
  const maxValueTokens = options.maxValueTokens ?? 2_000_000;
  const parse = jsonParser({ packValues: true, streamValues: false });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const fail = (reason: string, cause?: unknown): FeedParseError =>
    new FeedParseError(`${options.what}: ${reason} (near byte ${offset})`, cause === undefined ? undefined : { cause });

  // path[i] is the key/index of the value at depth i+1; frames[i] says whether depth i+1's container is an array
  const path: (string | number)[] = [];
  const arrays: boolean[] = [];
  let pendingKey: string | null = null;
  let asm: Assembler | null = null;
  let asmPath: (string | number)[] = [];
  let asmTokens = 0;
  let offset = 0;
  let started = false;

  /** The path of the value that starts now, advancing the parent array's index. */
  const nextPath = (): (string | number)[] | null => {
    const depth = arrays.length;
    if (depth === 0) return [];
    if (arrays[depth - 1]) {
      const index = (path[depth - 1] as number) + 1;
      path[depth - 1] = index;
      return path.slice(0, depth);
    }
    if (pendingKey === null) return null;
    path[depth - 1] = pendingKey;
    pendingKey = null;
    return path.slice(0, depth);
  };

  function* handle(tokens: readonly Token[]): Generator<SelectedJson> {
    for (const token of tokens) {
      if (asm !== null) {
        if (++asmTokens > maxValueTokens) throw fail(`a value at ${asmPath.join('.')} is over the limit of ${maxValueTokens} tokens`);
        if (token.name === 'startObject' || token.name === 'startArray') {
          if (arrays.length + asm.depth + 1 > maxDepth) throw fail(`nesting deeper than ${maxDepth}`);
        }
        asm.consume(token);
        if (asm.done) {
          const value = asm.current;
          asm = null;
          yield { path: asmPath, value };
        }
        continue;
      }
      switch (token.name) {
        case 'keyValue':
          pendingKey = token.value;
          break;
        case 'startObject':
        case 'startArray': {
          if (started && arrays.length === 0) throw fail('more than one top-level value');
          started = true;
          const at = nextPath();
          if (at === null) throw fail('a value without a key');
          if (options.select(at)) {
            asm = new Assembler();
            asmPath = at;
            asmTokens = 1;
            asm.consume(token);
            break;
          }
          if (arrays.length + 1 > maxDepth) throw fail(`nesting deeper than ${maxDepth}`);
          arrays.push(token.name === 'startArray');
          path.push(token.name === 'startArray' ? -1 : '');
          break;
        }
        case 'endObject':
        case 'endArray':
          arrays.pop();
          path.pop();
          break;
        case 'stringValue':
        case 'numberValue':
        case 'nullValue':
        case 'trueValue':
        case 'falseValue': {
          started = true;
          const at = nextPath();
          if (at === null) throw fail('a value without a key');
          if (options.select(at)) {
            yield { path: at, value: token.name === 'numberValue' ? Number(token.value) : token.value };
          }
          break;
        }
        default:
          break;
      }
    }
  }

  const run = (text: string | typeof none): readonly Token[] => {
    try {
      // a flushable stage: called with `none` at the end, it checks the document is complete
      const out = text === none ? (parse as unknown as (end: typeof none) => unknown)(none) : parse(text);
      return isMany(out) ? (getManyValues(out) as Token[]) : [];
    } catch (err) {
      throw fail(text === none ? `truncated document (${(err as Error).message})` : (err as Error).message, err);
    }
  };

  for await (const chunk of input) {
    let text: string;
    try {
      text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    } catch (err) {
      throw fail('not valid UTF-8', err);
    }
    yield* handle(run(text));
    offset += chunk.length;
  }
  try {
    const tail = decoder.decode();
    if (tail !== '') yield* handle(run(tail));
  } catch (err) {
    if (err instanceof FeedParseError) throw err;
    throw fail('not valid UTF-8', err);
  }
  yield* handle(run(none));
  if (!started) throw fail('empty document');
  if (asm !== null || arrays.length > 0) throw fail('truncated document');
}

/** {@link selectJson} over a file, read in small chunks. */
export function selectJsonFile(file: string, options: SelectJsonOptions): AsyncGenerator<SelectedJson> {
  return selectJson(createReadStream(file, { highWaterMark: CHUNK }), options);
}
