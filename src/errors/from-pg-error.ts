import { AppError, BadRequestError, ConflictError, InternalError, UnavailableError } from './app-error.ts';

/** The fields of a node-postgres `DatabaseError` this mapping reads. */
interface PgLikeError {
  code?: unknown;
  constraint?: unknown;
}

/**
 * Maps a PostgreSQL error (by SQLSTATE) to an {@link AppError}. This is the only place SQLSTATEs
 * are interpreted; anything unrecognised becomes an unexposed 500. Connection failures (Node's
 * `ECONNREFUSED` and friends) count as the database being unavailable.
 */
export function fromPgError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = typeof (err as PgLikeError)?.code === 'string' ? ((err as PgLikeError).code as string) : '';
  const constraint = (err as PgLikeError)?.constraint;
  const on = typeof constraint === 'string' ? ` (${constraint})` : '';

  switch (code) {
    case '23505':
      return new ConflictError(`already exists${on}`, { cause: err });
    case '23503':
      return new ConflictError(`refers to something that does not exist${on}`, { cause: err });
    case '23502':
    case '23514':
    case '22P02':
    case '22001':
    case '22003':
    case '22007':
    case '22008':
      return new BadRequestError(`invalid value${on}`, { cause: err });
    case '40001':
    case '40P01':
      return new UnavailableError('the database could not serialize the request; retry', { cause: err });
    case '57014':
      return new UnavailableError('the database cancelled a statement that took too long', { cause: err });
    case '53300':
    case '57P01':
    case '57P02':
    case '57P03':
      return new UnavailableError('the database is not available', { cause: err });
    default:
      break;
  }
  if (code.startsWith('08') || ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE'].includes(code)) {
    return new UnavailableError('the database is not available', { cause: err });
  }
  if (isKnexTimeout(err)) {
    return new UnavailableError('no database connection became free in time', { cause: err });
  }
  return new InternalError('unexpected error', { cause: err });
}

function isKnexTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === 'KnexTimeoutError';
}
