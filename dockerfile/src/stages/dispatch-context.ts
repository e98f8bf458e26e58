/**
 * What each instruction's dispatcher receives besides the state: expansion
 * with BuildKit's lexer (warnings and located errors included), stage/image
 * resolution for `--from`, and the build args. Dispatchers stay pure: they
 * return the next state and the step's expanded arguments; the caller
 * records history and snapshots.
 */
import type { SourceRange } from '@tsbuild/core';
import type { Instruction } from '../instructions/index.js';
import type { BuildState } from './build-state.js';
import type { EdgeKind, ExpandedArgs, StepSource } from './types.js';

export interface DispatchContext {
  readonly file: string;
  readonly stageIndex: number;
  /** Expands one word against the state's ENV and ARGs (ProcessWord). */
  expand(word: string, state: BuildState, range: SourceRange): string;
  /** Expands and splits on unquoted white space (ProcessWords). */
  expandWords(word: string, state: BuildState, range: SourceRange): string[];
  /** Expands a heredoc body: only `$` references and escapes, quotes kept (BuildKit ExpandRaw). */
  expandRaw(word: string, state: BuildState, range: SourceRange): string;
  /** Whether `word` stays itself when expanded against nothing (no `$`, quotes or escapes that change it). */
  isLiteral(word: string): boolean;
  /** Resolves `--from` / mount `from=` (with the mount's target, for errors) to a stage (recording the edge) or an image. */
  resolveSource(name: string, range: SourceRange, kind: EdgeKind, mountTarget?: string): StepSource;
  /** The value of a global (meta) ARG, build-arg override applied; undefined when not declared. */
  metaArg(name: string): string | undefined;
  /** The `--build-arg` value for `name`, marking it consumed. */
  buildArg(name: string): string | undefined;
  /** Records a build-check warning. */
  warn(rule: string, message: string, range: SourceRange): void;
  /** Throws a DockerfileError at `range`. */
  fail(code: string, message: string, range: SourceRange): never;
}

export interface DispatchResult {
  state: BuildState;
  expanded: ExpandedArgs;
  /** History `created_by`; undefined when the instruction adds no history (ONBUILD). */
  createdBy: string | undefined;
  makesLayer: boolean;
}

export type Dispatcher<I extends Instruction = Instruction> = (inst: I, state: BuildState, ctx: DispatchContext) => DispatchResult;

export const StageErrorCode = {
  UnknownTarget: 'DOCKERFILE_UNKNOWN_TARGET',
  Cycle: 'DOCKERFILE_STAGE_CYCLE',
  StageOrder: 'DOCKERFILE_STAGE_ORDER',
  EmptyFrom: 'DOCKERFILE_EMPTY_FROM',
  InvalidReference: 'DOCKERFILE_INVALID_REFERENCE',
  InvalidPlatform: 'DOCKERFILE_INVALID_PLATFORM',
  Expansion: 'DOCKERFILE_EXPANSION',
  VariableRequired: 'DOCKERFILE_VARIABLE_REQUIRED',
  InvalidMount: 'DOCKERFILE_INVALID_MOUNT',
  InvalidValue: 'DOCKERFILE_INVALID_VALUE',
} as const;
