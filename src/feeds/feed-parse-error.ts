/** A feed file that cannot be parsed: the message names the feed and what is wrong (and where, when known). */
export class FeedParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FeedParseError';
  }
}
