declare module 'unbzip2-stream' {
  import type { Duplex } from 'node:stream';
  /** A stream that takes bzip2 bytes (one or more concatenated streams) and emits the decompressed bytes. */
  export default function unbzip2Stream(): Duplex;
}
