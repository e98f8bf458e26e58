/**
 * The one error vocabulary of tsbuild. Every error that crosses a package
 * border is a TsbuildError with a category from a small closed set (the
 * containerd errdefs habit) and a stable machine-readable `code`.
 * Domain subclasses add what their callers need: a Dockerfile range, an exit
 * code, an HTTP status.
 */
import type { SourceRange } from './source-range.js';

export type ErrorCategory =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'FailedPrecondition'
  | 'Unavailable'
  | 'Unauthenticated'
  | 'PermissionDenied'
  | 'Canceled'
  | 'Internal';

export interface TsbuildErrorOptions {
  /** Stable code, e.g. `STORE_BLOB_NOT_FOUND`. Defaults to the category in upper snake case. */
  code?: string;
  cause?: unknown;
}

export class TsbuildError extends Error {
  readonly category: ErrorCategory;
  readonly code: string;

  constructor(category: ErrorCategory, message: string, options: TsbuildErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.category = category;
    this.code = options.code ?? category.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  }
}

export class NotFoundError extends TsbuildError {
  constructor(message: string, options: TsbuildErrorOptions = {}) {
    super('NotFound', message, options);
  }
}

export class AlreadyExistsError extends TsbuildError {
  constructor(message: string, options: TsbuildErrorOptions = {}) {
    super('AlreadyExists', message, options);
  }
}

export class InvalidArgumentError extends TsbuildError {
  constructor(message: string, options: TsbuildErrorOptions = {}) {
    super('InvalidArgument', message, options);
  }
}

/**
 * A path (or archive entry) would resolve outside the root it must stay in, or
 * its symlinks do not end. The code keeps its file-ops name: it is stable.
 */
export class PathEscapesRootError extends InvalidArgumentError {
  constructor(message: string) {
    super(message, { code: 'FILEOPS_PATH_ESCAPES' });
  }
}

export class FailedPreconditionError extends TsbuildError {
  constructor(message: string, options: TsbuildErrorOptions = {}) {
    super('FailedPrecondition', message, options);
  }
}

export class UnavailableError extends TsbuildError {
  constructor(message: string, options: TsbuildErrorOptions = {}) {
    super('Unavailable', message, options);
  }
}

export class CanceledError extends TsbuildError {
  constructor(message = 'operation canceled', options: TsbuildErrorOptions = {}) {
    super('Canceled', message, { code: 'CANCELED', ...options });
  }
}

export class InternalError extends TsbuildError {
  constructor(message: string, options: TsbuildErrorOptions = {}) {
    super('Internal', message, options);
  }
}

/** Content did not hash to what was expected. Nothing is committed when this is thrown. */
export class DigestMismatchError extends TsbuildError {
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string, options: TsbuildErrorOptions = {}) {
    super('FailedPrecondition', `digest mismatch: expected ${expected}, got ${actual}`, {
      code: 'DIGEST_MISMATCH',
      ...options,
    });
    this.expected = expected;
    this.actual = actual;
  }
}

/** A problem in a Dockerfile: always carries the file and a source range. */
export class DockerfileError extends TsbuildError {
  readonly file: string;
  readonly range: SourceRange | undefined;
  constructor(message: string, file: string, range?: SourceRange, options: TsbuildErrorOptions = {}) {
    super('InvalidArgument', message, { code: 'DOCKERFILE_INVALID', ...options });
    this.file = file;
    this.range = range;
  }

  /** `Dockerfile:3:5: reason` — the one line the CLI prints. */
  get location(): string {
    if (!this.range) return this.file;
    return `${this.file}:${this.range.start.line}:${this.range.start.character + 1}`;
  }
}

/** A process in a container exited non-zero. */
export class ExecError extends TsbuildError {
  readonly exitCode: number;
  readonly command: readonly string[];
  /** The last lines of combined output, for the error message. */
  readonly outputTail: string;
  constructor(exitCode: number, command: readonly string[], outputTail = '', options: TsbuildErrorOptions = {}) {
    super('FailedPrecondition', `process "${command.join(' ')}" did not complete successfully: exit code: ${exitCode}`, {
      code: 'EXEC_FAILED',
      ...options,
    });
    this.exitCode = exitCode;
    this.command = command;
    this.outputTail = outputTail;
  }
}

/** Where a registry failure happened; each part is named in the message when known. */
export interface RegistryErrorDetails {
  registry?: string | undefined;
  repository?: string | undefined;
  digest?: string | undefined;
}

/**
 * A registry answered with an error, or could not be reached (status 0): the
 * HTTP status, the OCI distribution error code when the body had one
 * (`BLOB_UNKNOWN`, `DENIED`, `MANIFEST_INVALID`, ...), and the registry,
 * repository and digest the request was about.
 */
export class RegistryError extends TsbuildError {
  readonly status: number;
  readonly ociCode: string | undefined;
  readonly registry: string | undefined;
  readonly repository: string | undefined;
  readonly digest: string | undefined;
  constructor(
    category: ErrorCategory,
    message: string,
    status: number,
    ociCode?: string,
    options: TsbuildErrorOptions & RegistryErrorDetails = {},
  ) {
    super(category, message, { code: ociCode ? `REGISTRY_${ociCode}` : `REGISTRY_HTTP_${status}`, ...options });
    this.status = status;
    this.ociCode = ociCode;
    this.registry = options.registry;
    this.repository = options.repository;
    this.digest = options.digest;
  }
}

const is = (category: ErrorCategory) => (err: unknown): boolean =>
  err instanceof TsbuildError && err.category === category;

export const isNotFound = is('NotFound');
export const isAlreadyExists = is('AlreadyExists');
export const isInvalidArgument = is('InvalidArgument');
export const isFailedPrecondition = is('FailedPrecondition');
export const isUnavailable = is('Unavailable');
export const isCanceled = (err: unknown): boolean =>
  is('Canceled')(err) || (err instanceof Error && err.name === 'AbortError');

/** Throws a CanceledError if the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CanceledError(reasonText(signal.reason));
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  return 'operation canceled';
}
