import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@tsbuild/core';

/** A path (or archive entry) would resolve outside the root it must stay in. */
export class PathEscapesRootError extends InvalidArgumentError {
  constructor(message: string) {
    super(message, { code: 'FILEOPS_PATH_ESCAPES' });
  }
}

/** Several sources and a destination that is not a directory (BuildKit's wording). */
export class CopyDestNotDirError extends InvalidArgumentError {
  constructor() {
    super('When using COPY with more than one source file, the destination must be a directory and end with a /', {
      code: 'FILEOPS_DEST_NOT_DIR',
    });
  }
}

/** `--chown=name` names a user or group the image does not have. */
export class UnknownOwnerError extends NotFoundError {
  constructor(kind: 'user' | 'group', name: string, cause?: unknown) {
    super(`unable to find ${kind} ${name}`, { code: kind === 'user' ? 'FILEOPS_UNKNOWN_USER' : 'FILEOPS_UNKNOWN_GROUP', cause });
  }
}

/** The destination has the wrong kind of entry (a directory where a file must go, …). */
export class DestConflictError extends FailedPreconditionError {
  constructor(message: string) {
    super(message, { code: 'FILEOPS_DEST_CONFLICT' });
  }
}
