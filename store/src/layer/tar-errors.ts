/**
 * Typed errors of layer tar handling. A layer is untrusted input: every
 * refusal names the entry (its path as written in the tar) and the reason, so
 * a user can tell a hostile layer from a damaged one.
 */
import { FailedPreconditionError, InvalidArgumentError, type TsbuildErrorOptions } from '@tsbuild/core';

/**
 * An entry would write outside the root, through a symlink, or create
 * something the caller did not allow (a device node). Nothing of the entry has
 * been written when this is thrown.
 */
export class UnsafeLayerEntryError extends FailedPreconditionError {
  readonly entry: string;
  readonly reason: string;
  constructor(entry: string, reason: string, options: TsbuildErrorOptions = {}) {
    super(`unsafe layer entry ${JSON.stringify(entry)}: ${reason}`, { code: 'LAYER_UNSAFE_ENTRY', ...options });
    this.entry = entry;
    this.reason = reason;
  }
}

/** The tar stream itself is malformed: truncated, bad checksum, bad PAX record. */
export class InvalidLayerTarError extends InvalidArgumentError {
  readonly entry: string | undefined;
  constructor(message: string, entry?: string, options: TsbuildErrorOptions = {}) {
    super(entry === undefined ? `invalid layer tar: ${message}` : `invalid layer tar at ${JSON.stringify(entry)}: ${message}`, {
      code: 'LAYER_TAR_INVALID',
      ...options,
    });
    this.entry = entry;
  }
}

/** A warning while applying a layer: data, not an exception (the node-tar habit). */
export interface LayerWarning {
  code: string;
  message: string;
  entry: string;
}
