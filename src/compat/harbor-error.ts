import { AppError } from '../errors/app-error.ts';

/**
 * An error with the status the Harbor scanner spec gives it: 400 (JSON that does not parse or has
 * values of the wrong type), 422 (a field that is missing or invalid, a registry that is not
 * configured), 501 (a capability or report type this adapter does not produce), 500.
 */
export class HarborError extends AppError {
  constructor(status: 400 | 404 | 422 | 500 | 501, message: string, options: { cause?: unknown; expose?: boolean } = {}) {
    super(status, status === 400 ? 'bad_request' : status === 404 ? 'not_found' : status === 422 ? 'invalid_field' : status === 501 ? 'not_implemented' : 'internal_error', message, {
      expose: options.expose ?? true,
      cause: options.cause,
    });
  }
}
