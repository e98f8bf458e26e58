/**
 * Which stage a name refers to, as BuildKit's `dispatchStates` answers it
 * (dockerfile2llb/convert.go `addState`, `findStateByName`,
 * `findStateByIndex`). Stage names are kept lowercased in one map, and a
 * later stage of the same name replaces an earlier one there (duplicate
 * names build, with the DuplicateStageName warning), so:
 * - `FROM <name>` is looked up while the stages are being added, with the
 *   name as written: the latest stage *before* it of exactly that name.
 *   `FROM Build` does not find `AS build` (an image reference then), and a
 *   FROM naming its own or a later stage names an image;
 * - `--target`, `COPY --from` and `RUN --mount from=` are looked up once all
 *   stages are added, case-insensitively: the *last* stage of that name;
 * - `COPY --from=<digits>` is a stage index; `--target` and `from=` of a
 *   mount know no indexes (`findStateByName` only).
 */
import type { Stage } from '../instructions/index.js';

/** The stage `FROM name` builds on in stage `before`, or undefined for an image. */
export function baseStage(name: string, stages: readonly Stage[], before: number): number | undefined {
  for (let i = Math.min(before, stages.length) - 1; i >= 0; i--) if (stages[i]!.name === name) return i;
  return undefined;
}

/** The last stage named `name` (case-insensitive). */
export function namedStage(name: string, stages: readonly Stage[]): number | undefined {
  const lower = name.toLowerCase();
  for (let i = stages.length - 1; i >= 0; i--) if (stages[i]!.name === lower) return i;
  return undefined;
}

/** `COPY --from=<n>`: whether the value is an index (Go's strconv.Atoi accepts a sign). */
export const isStageIndex = (name: string): boolean => /^[+-]?\d+$/.test(name);

/** How BuildKit names a stage in messages: its name, else `stage-<index>`. */
export const stageLabel = (stage: Stage): string => stage.name ?? `stage-${stage.index}`;
