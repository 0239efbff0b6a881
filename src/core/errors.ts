/**
 * The one error path (STYLE.md §4). Stages throw these; each face (CLI, server) turns them into
 * one line on stderr / one JSON body in exactly one place. Anything else is a bug and exits 2 too,
 * but with "internal error" so that it gets reported.
 */
export class PalisadeError extends Error {
  /** CLI exit code: 2 = could not run. */
  readonly exitCode: number = 2;
  /** HTTP status for the server faces. */
  readonly httpStatus: number = 500;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input from the user or a hostile artifact: malformed tar, bad flag, traversal entry. */
export class UserInputError extends PalisadeError {
  override readonly httpStatus: number = 400;
}

/** A bound was hit: too many entries, decompression ratio, file too large, body too large. */
export class LimitExceededError extends UserInputError {
  override readonly httpStatus: number = 413;
}

/** A checksum did not match what the manifest or index promised. */
export class IntegrityError extends UserInputError {
  override readonly httpStatus: number = 422;
}

export class NotFoundError extends PalisadeError {
  override readonly httpStatus: number = 404;
}

/** A component we depend on (clamd, registry, database) is down or answered garbage. */
export class UnavailableError extends PalisadeError {
  override readonly httpStatus: number = 503;
}

/** Authentication or authorization failed (registry credentials, API token). */
export class AuthError extends PalisadeError {
  override readonly httpStatus: number = 401;
}

/** One line for stderr; never includes a stack. Secrets must never be put into messages. */
export function describeError(err: unknown): string {
  if (err instanceof PalisadeError) return err.message;
  if (err instanceof Error) return `internal error: ${err.message}`;
  return `internal error: ${String(err)}`;
}
