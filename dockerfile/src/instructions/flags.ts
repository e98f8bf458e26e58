/**
 * Builder flags (`--name=value`) checked the way BuildKit's `bflag.go` does:
 * each instruction declares its flags with a type; unknown, duplicated and
 * malformed flags are errors at the flag's own range.
 */
import type { SourceRange } from '@tsbuild/core';
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';
import type { InstructionFlag } from './types.js';

/** bool: `--link`, `--link=true|false`; string: exactly one `--x=v`; strings: repeatable. */
export type FlagType = 'bool' | 'string' | 'strings';
export type FlagSpec = Readonly<Record<string, FlagType>>;

export interface FlagValues {
  list: InstructionFlag[];
  string(name: string): string | undefined;
  bool(name: string): boolean | undefined;
  strings(name: string): InstructionFlag[];
  range(name: string): SourceRange | undefined;
}

export function parseFlags(ctx: ParseContext, spec: FlagSpec): FlagValues {
  const raw = ctx.node.flags;
  const located = ctx.located?.flags ?? [];
  // dockerfile-ast and BuildKit agree on the flags in all but exotic quoting; pair them by position then.
  const aligned = located.length === raw.length;
  const list: InstructionFlag[] = [];
  const values = new Map<string, string>();
  const seen = new Set<string>();
  raw.forEach((word, i) => {
    const range = aligned ? located[i]!.range : ctx.range;
    const body = word.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? null : body.slice(eq + 1);
    const type = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (type === undefined) ctx.fail(InstructionErrorCode.UnknownFlag, `unknown flag: ${name}`, range);
    if (seen.has(name) && type !== 'strings') {
      ctx.fail(InstructionErrorCode.DuplicateFlag, `duplicate flag specified: ${name}`, range);
    }
    seen.add(name);
    if (type === 'bool') {
      if (value === '') ctx.fail(InstructionErrorCode.BadFlagValue, `missing a value on flag: ${name}`, range);
      const lower = (value ?? 'true').toLowerCase();
      if (lower !== 'true' && lower !== 'false') {
        ctx.fail(InstructionErrorCode.BadFlagValue, `expecting boolean value for flag ${name}, not: ${value}`, range);
      }
      values.set(name, lower);
    } else {
      if (value === null) ctx.fail(InstructionErrorCode.BadFlagValue, `missing a value on flag: ${name}`, range);
      values.set(name, value);
    }
    list.push({ name, value, range });
  });
  return {
    list,
    string: (name) => values.get(name),
    bool: (name) => (values.has(name) ? values.get(name) === 'true' : undefined),
    strings: (name) => list.filter((f) => f.name === name),
    range: (name) => list.find((f) => f.name === name)?.range,
  };
}
