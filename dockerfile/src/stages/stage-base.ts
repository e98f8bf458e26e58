/**
 * FROM: the base image name and `--platform` expanded against the global
 * scope only, then resolved to scratch, an earlier stage (the latest before
 * it of exactly that name, stage-lookup.ts) or an image reference. Lints UndefinedArgInFrom,
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
import { baseStage } from './stage-lookup.js';
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
  // A stage named `scratch` comes first: BuildKit's addState looks the name up before anything else.
  const byName = baseStage(name, input.stages, stage.index);
  if (byName !== undefined) {
    // A stage built on another runs on that stage's platform unless it sets its own.
    return { base: { kind: 'stage', index: byName }, platform: from.platform === undefined ? (input.stagePlatform(byName) ?? platform) : platform };
  }
  if (name === 'scratch') return { base: { kind: 'scratch' }, platform };
  try {
    parseReference(name);
  } catch (err) {
    fail(StageErrorCode.InvalidReference, `failed to parse stage name ${JSON.stringify(name)}: ${(err as Error).message}`, from.imageRange);
  }
  return { base: { kind: 'image', ref: name }, platform };
}

/** InvalidDefaultArgInFrom: with the meta ARG defaults alone, the base must be a usable name. */
function checkDefault(from: FromInstruction, defaults: Env, input: FromInput): void {
  const name = input.expander.expand(from.image, defaults, from.imageRange, input.scope.declared, false).result;
  // BuildKit validateBaseImagesWithDefaultArgs: the name must parse as a reference (stage names and scratch do).
  let ok = name !== '';
  try {
    parseReference(name);
  } catch {
    ok = false;
  }
  if (!ok) {
    input.warnings.push(lintWarning('InvalidDefaultArgInFrom',
      `Default value for ARG ${from.image} results in empty or invalid base image name`, from.imageRange));
  }
}
