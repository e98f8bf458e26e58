/**
 * buildx flags that later issues implement (attestations,
 * remote builders). They are parsed, so a CI script written for
 * `docker buildx build` gets one short line naming what tsbuild lacks instead
 * of an unknown-flag error; the build does not start (exit 1: a build that
 * silently dropped its cache export or its SBOM would be worse).
 *
 * Flag kinds follow buildx's buildCmd (commands/build.go): --attest is
 * StringArray, --sbom, --provenance and --builder String. `--provenance=false` / `--sbom=false` ask for what tsbuild does
 * anyway (it writes no attestations) and are accepted.
 */
import { FailedPreconditionError } from '@tsbuild/core';
import { list, str, type OptionSpec, type ParsedArgs } from './command.js';

export const LATER_BUILD_OPTIONS: OptionSpec = {
  attest: { type: 'string', multiple: true },
  sbom: { type: 'string' },
  provenance: { type: 'string' },
  builder: { type: 'string' },
};

export const LATER_BUILD_HELP: Array<[string, string]> = [
  ['--attest, --sbom, --provenance, --builder', 'accepted for buildx compatibility: not supported yet (an error)'],
];

/** Throws (code BUILD_FLAG_NOT_SUPPORTED_YET) on the first later flag given. */
export function rejectLaterFlags(args: ParsedArgs): void {
  if (list(args, 'attest').length > 0) throw notYet('--attest');
  for (const name of ['sbom', 'provenance']) {
    const v = str(args, name);
    if (v !== undefined && !/^(false|0)$/i.test(v)) throw notYet(`--${name}`);
  }
  if (str(args, 'builder') !== undefined) throw notYet('--builder (tsbuild builds in-process)');
}

function notYet(what: string): FailedPreconditionError {
  return new FailedPreconditionError(`${what} is not supported yet`, { code: 'BUILD_FLAG_NOT_SUPPORTED_YET' });
}
