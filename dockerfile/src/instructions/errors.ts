/**
 * Errors of the instruction model: DockerfileSyntaxErrors (a DockerfileError
 * plus the offending lines' text) with a stable code per kind of problem.
 */
import type { SourceRange } from '@tsbuild/core';
import { DockerfileSyntaxError } from '../parser/index.js';

export const InstructionErrorCode = {
  UnknownInstruction: 'DOCKERFILE_UNKNOWN_INSTRUCTION',
  UnknownFlag: 'DOCKERFILE_UNKNOWN_FLAG',
  DuplicateFlag: 'DOCKERFILE_DUPLICATE_FLAG',
  /** A flag without its value, or with a value it cannot take. */
  BadFlagValue: 'DOCKERFILE_BAD_FLAG_VALUE',
  /** Too few or too many arguments for the instruction. */
  ArgumentCount: 'DOCKERFILE_ARGUMENT_COUNT',
  InvalidStageName: 'DOCKERFILE_INVALID_STAGE_NAME',
  OnbuildTrigger: 'DOCKERFILE_ONBUILD_TRIGGER',
  ShellNotJson: 'DOCKERFILE_SHELL_NOT_JSON',
  InvalidMount: 'DOCKERFILE_INVALID_MOUNT',
  InvalidDuration: 'DOCKERFILE_INVALID_DURATION',
  InvalidHealthcheck: 'DOCKERFILE_INVALID_HEALTHCHECK',
  BadHeredoc: 'DOCKERFILE_BAD_HEREDOC',
  /** An instruction other than ARG before the first FROM. */
  NoStage: 'DOCKERFILE_NO_STAGE',
} as const;
export type InstructionErrorCode = (typeof InstructionErrorCode)[keyof typeof InstructionErrorCode];

/** A DockerfileSyntaxError raised while converting an instruction (`lineText` for the CLI snippet). */
export class InstructionError extends DockerfileSyntaxError {
  constructor(message: string, file: string, range: SourceRange, code: InstructionErrorCode, lineText: string) {
    super(message, file, range, code, lineText);
  }
}
