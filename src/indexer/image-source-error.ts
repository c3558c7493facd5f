import { AppError } from '../errors/app-error.ts';

/** What is wrong with a local image source (a `docker save` archive or an OCI layout) or its argument. */
export type ImageSourceErrorKind =
  | 'not_found' // the path, a blob or an archive entry does not exist
  | 'unreadable' // the file system refused (permissions, not a regular file)
  | 'not_an_image' // not a tar archive, no manifest.json, no oci-layout file
  | 'corrupt' // a corrupt gzip/zstd stream or tar header
  | 'truncated' // the archive ends inside an entry
  | 'invalid' // manifest.json, index.json, a manifest or a config does not parse or validate
  | 'digest_mismatch' // a blob does not hash to its digest, or its size differs from its descriptor
  | 'too_large' // over one of the source's limits
  | 'unsupported' // a valid input this reader does not handle (another transport, a layout version)
  | 'no_match' // no image for the tag, reference or platforms asked for
  | 'ambiguous' // several images and nothing to choose between them
  | 'not_allowed'; // a blob path escaping the layout directory

const STATUS: Record<ImageSourceErrorKind, number> = {
  not_found: 404,
  unreadable: 400,
  not_an_image: 400,
  corrupt: 400,
  truncated: 400,
  invalid: 400,
  digest_mismatch: 400,
  too_large: 413,
  unsupported: 422,
  no_match: 404,
  ambiguous: 400,
  not_allowed: 400,
};

/**
 * The one error a local image source throws while it is opened: its message is a single line
 * (names from the input are quoted, so they cannot break it) that a CLI prints as it is, prefixed
 * with the program name. Rendered as `image_source_<kind>`; the message is always exposed.
 * Errors met later, while a layer streams, are `LayerError`s, like those of registry layers.
 */
export class ImageSourceError extends AppError {
  readonly kind: ImageSourceErrorKind;

  constructor(kind: ImageSourceErrorKind, message: string, options: { cause?: unknown } = {}) {
    super(STATUS[kind], `image_source_${kind}`, message.replace(/[\r\n]+/g, ' '), { expose: true, cause: options.cause });
    this.kind = kind;
  }
}

/** `value` quoted for a one-line message, cut to `max` characters. */
export function quoteName(value: string, max = 200): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/**
 * A file-system error met opening `what`, as an {@link ImageSourceError} (`not_found` for a missing
 * path, `unreadable` for the rest); anything that is not a file-system error is returned unchanged.
 */
export function fileSystemError(error: unknown, what: string): unknown {
  if (error instanceof ImageSourceError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ImageSourceError('not_found', `${what} does not exist`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') return new ImageSourceError('unreadable', `${what} cannot be read: permission denied`, { cause: error });
  if (code === 'EISDIR') return new ImageSourceError('unreadable', `${what} is a directory`, { cause: error });
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return new ImageSourceError('unreadable', `${what} cannot be read (${code})`, { cause: error });
  return error;
}
