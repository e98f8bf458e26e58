/**
 * FROM: the base image name and `--platform` expanded against the global
 * scope only, then resolved to scratch, an earlier stage (by name,
 * case-insensitive, or index) or an image reference. Lints UndefinedArgInFrom,
 * InvalidDefaultArgInFrom and RedundantTargetPlatform like BuildKit.
 */
import { DockerfileError, parsePlatform, parseReference, type Platform, type SourceRange } from '@tsbuild/core';
import type { FromInstruction, Stage } from '../instructions/index.js';
import type { Warning } from '../parser/index.js';
import type { Env } from '../shell/index.js';
import { StageErrorCode } from './dispatch-context.js';
import { suggestName, type Expander } from './expand.js';
import type { GlobalScope } from './global-scope.js';
import { lintWarning } from './lint.js';
import type { StageBase } from './types.js';

export interface ResolvedFrom {
  base: StageBase;
  platform: Platform;
}

export interface FromInput {
  file: string;
  stage: Stage;
  stages: readonly Stage[];
  scope: GlobalScope;
  targetPlatform: Platform;
  expander: Expander;
  warnings: Warning[];
  /** The platform of an earlier stage. */
  stagePlatform(index: number): Platform | undefined;
}

export function resolveFrom(input: FromInput): ResolvedFrom {
  const { file, stage, scope, expander, warnings } = input;
  const from = stage.from;
  const fail = (code: string, msg: string, range: SourceRange): never => {
    throw new DockerfileError(msg, file, range, { code });
  };
  const expandChecked = (word: string, range: SourceRange): string => {
    const res = expander.expand(word, scope.env(), range, scope.declared, false);
    for (const name of res.unmatched) {
      if (scope.declared.has(name)) continue;
      const hint = suggestName(name, [...scope.declared]);
      warnings.push(lintWarning('UndefinedArgInFrom', `FROM argument '${name}' is not declared${hint ? ` (did you mean ${hint}?)` : ''}`, range));
    }
    return res.result;
  };

  if (stage.name === 'scratch' || stage.name === 'context') {
    warnings.push(lintWarning('ReservedStageName', `'${stage.name}' is reserved and should not be used as a stage name`, from.stageNameRange ?? from.range));
  }
  let platform = input.targetPlatform;
  if (from.platform !== undefined) {
    const flagRange = from.flags.find((f) => f.name === 'platform')?.range ?? from.range;
    if (/^\$(TARGETPLATFORM|\{TARGETPLATFORM\})$/.test(from.platform)) {
      warnings.push(lintWarning('RedundantTargetPlatform',
        `Setting platform to predefined ${from.platform} in FROM is redundant as this is the default behavior`, flagRange));
    }
    const spec = expandChecked(from.platform, flagRange);
    try {
      platform = parsePlatform(spec);
    } catch (err) {
      fail(StageErrorCode.InvalidPlatform, `failed to parse platform ${spec}: ${(err as Error).message}`, flagRange);
    }
  }

  const name = expandChecked(from.image, from.imageRange);
  if (from.image.includes('$')) checkDefault(from, scope.env('defaults'), input);
  if (name === '') fail(StageErrorCode.EmptyFrom, `base name (${from.image}) should not be blank`, from.imageRange);
  if (name === 'scratch') return { base: { kind: 'scratch' }, platform };
  const byName = stageIndex(name, input.stages);
  if (byName !== undefined) {
    if (byName >= stage.index) {
      fail(StageErrorCode.Cycle, `circular dependency detected on stage: ${name} (FROM may only name an earlier stage)`, from.imageRange);
    }
    // A stage built on another runs on that stage's platform unless it sets its own.
    return { base: { kind: 'stage', index: byName }, platform: from.platform === undefined ? (input.stagePlatform(byName) ?? platform) : platform };
  }
  try {
    parseReference(name);
  } catch (err) {
    fail(StageErrorCode.InvalidReference, `failed to parse stage name ${JSON.stringify(name)}: ${(err as Error).message}`, from.imageRange);
  }
  return { base: { kind: 'image', ref: name }, platform };
}

/** The stage a `FROM`/`--from` name refers to: a stage name (case-insensitive) or a decimal index. */
export function stageIndex(name: string, stages: readonly Stage[]): number | undefined {
  const lower = name.toLowerCase();
  const named = stages.find((s) => s.name === lower);
  if (named) return named.index;
  if (/^\d+$/.test(name)) {
    const i = Number(name);
    if (i < stages.length) return i;
  }
  return undefined;
}

/** InvalidDefaultArgInFrom: with the meta ARG defaults alone, the base must be a usable name. */
function checkDefault(from: FromInstruction, defaults: Env, input: FromInput): void {
  const name = input.expander.expand(from.image, defaults, from.imageRange, input.scope.declared, false).result;
  let ok = name !== '';
  if (ok && name !== 'scratch' && stageIndex(name, input.stages) === undefined) {
    try {
      parseReference(name);
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    input.warnings.push(lintWarning('InvalidDefaultArgInFrom',
      `Default value for ARG ${from.image} results in empty or invalid base image name`, from.imageRange));
  }
}
