/** Why a token was refused, in words safe to show the caller. */
export type TokenRejectionReason =
  | 'malformed'
  | 'algorithm not accepted'
  | 'untrusted key'
  | 'bad signature'
  | 'untrusted issuer'
  | 'wrong audience'
  | 'expired'
  | 'not yet valid'
  | 'issued in the future'
  | 'missing claim'
  | 'invalid claims';

/** A token that failed verification; `reason` is shown to the caller, `detail` only logged. */
export class TokenRejectedError extends Error {
  readonly reason: TokenRejectionReason;
  readonly detail: string;

  constructor(reason: TokenRejectionReason, detail: string = reason, options?: { cause?: unknown }) {
    super(`token refused: ${reason}`, options);
    this.name = 'TokenRejectedError';
    this.reason = reason;
    this.detail = detail;
  }
}
