import { errors } from 'jose';
import { TokenRejectedError } from './token-rejected-error.ts';

/**
 * Maps whatever jose (or a key lookup) threw while verifying a token to a
 * {@link TokenRejectedError}: algorithm, signature, `exp`/`nbf`/`iat`, `iss`, `aud`, missing claims,
 * malformed input. Anything unrecognised is a bad signature (never accepted).
 */
export function tokenRejectionOf(err: unknown): TokenRejectedError {
  if (err instanceof TokenRejectedError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  const options = { cause: err };
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenRejectedError('algorithm not accepted', detail, options);
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRejectedError('bad signature', detail, options);
  if (err instanceof errors.JWTExpired) return new TokenRejectedError('expired', detail, options);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return new TokenRejectedError('missing claim', detail, options);
    switch (err.claim) {
      case 'nbf':
        return new TokenRejectedError('not yet valid', detail, options);
      case 'iss':
        return new TokenRejectedError('untrusted issuer', detail, options);
      case 'aud':
        return new TokenRejectedError('wrong audience', detail, options);
      case 'iat':
        return new TokenRejectedError('issued in the future', detail, options);
      default:
        return new TokenRejectedError('invalid claims', detail, options);
    }
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
    return new TokenRejectedError('malformed', detail, options);
  }
  return new TokenRejectedError('bad signature', detail, options);
}
