export { copy, type CopyOptions } from './copy.js';
export { mkdir, mkfile, rm, symlink } from './basic-ops.js';
export { resolveOwner } from './owner.js';
export { resolveInRoot, resolveInRootSync, isInside } from '@tsbuild/core';
export { octalChmod, parseChmod, type ModeMapper } from './chmod.js';
export { detectArchive, kindOf, type ArchiveKind } from './archive.js';
export { DestWriter, type EntryMeta, type Owner } from './dest-writer.js';
export { PathEscapesRootError, CopyDestNotDirError, UnknownOwnerError, DestConflictError } from './errors.js';
