/**
 * The shape of one CLI command: flags → an API call → an exit code. Each
 * command lives in its own module under commands/ and is found through the
 * table in commands/index.ts.
 */
import type { ParseArgsConfig } from 'node:util';
import type { CliContext } from './context.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  /** One line for `tsbuild --help`. */
  summary: string;
  /** Usage text after `tsbuild <name>`, e.g. `[OPTIONS] IMAGE [COMMAND] [ARG...]`. */
  usage: string;
  /** Flag descriptions for `tsbuild <name> --help`, in display order. */
  help?: Array<[flag: string, description: string]>;
  options: OptionSpec;
  /**
   * Stop parsing flags at the first positional (like `docker run IMAGE cmd --flag`),
   * so everything after it belongs to the command being run.
   */
  stopAtFirstPositional?: boolean;
  run(ctx: CliContext, args: ParsedArgs): Promise<number>;
}

/** A string flag's value, or undefined. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string flag's values (empty when absent). */
export function list(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
