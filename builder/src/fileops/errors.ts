import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@tsbuild/core';

// The root-confined path resolver's error lives in core beside the resolver; file ops throw it too.
export { PathEscapesRootError } from '@tsbuild/core';

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
