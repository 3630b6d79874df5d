/**
 * Coded errors. Express maps `status` to the HTTP answer with a JSON body
 * `{ error: { code, message, field? } }`; workers treat `retryable: false` as
 * unrecoverable.
 */
export interface AppErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  status?: number;
  field?: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly retryable: boolean;
  readonly field?: string;

  constructor(
    readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status ?? 500;
    this.retryable = options.retryable ?? false;
    this.field = options.field;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, field?: string) {
    super('invalid_request', message, { status: 400, field });
  }
}

export class AuthenticationError extends AppError {
  constructor(message = 'authentication required') {
    super('unauthenticated', message, { status: 401 });
  }
}

export class ForbiddenError extends AppError {
  /** `field` names the request field the refusal is about, when there is one. */
  constructor(message = 'not allowed for this role', field?: string) {
    super('forbidden', message, { status: 403, field });
  }
}

export class NotFoundError extends AppError {
  /** `field` names the request field that pointed at nothing, when there is one. */
  constructor(what: string, id: string, field?: string) {
    super('not_found', `${what} ${id} not found`, { status: 404, field });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') {
    super(code, message, { status: 409 });
  }
}

/** A channel refused or failed to send; `retryable` says whether to try again. */
export class ChannelSendError extends AppError {
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super('channel_send_failed', message, { ...options, status: 502 });
  }
}
