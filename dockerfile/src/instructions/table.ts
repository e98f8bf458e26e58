/** Keyword (lowercase) → its parser: the one place an instruction is found. */
import { parseAdd } from './add.js';
import { parseArg } from './arg.js';
import { parseCmd } from './cmd.js';
import type { ParseContext } from './context.js';
import { parseCopy } from './copy.js';
import { parseEntrypoint } from './entrypoint.js';
import { parseEnv } from './env.js';
import { parseExpose } from './expose.js';
import { parseFrom } from './from.js';
import { parseHealthcheck } from './healthcheck.js';
import { parseLabel } from './label.js';
import { parseMaintainer } from './maintainer.js';
import { parseOnbuild } from './onbuild.js';
import { parseRun } from './run.js';
import { parseShell } from './shell.js';
import { parseStopsignal } from './stopsignal.js';
import type { Instruction } from './types.js';
import { parseUser } from './user.js';
import { parseVolume } from './volume.js';
import { parseWorkdir } from './workdir.js';

export type InstructionParser = (ctx: ParseContext) => Instruction;

export const parsers: Readonly<Record<string, InstructionParser>> = {
  add: parseAdd,
  arg: parseArg,
  cmd: parseCmd,
  copy: parseCopy,
  entrypoint: parseEntrypoint,
  env: parseEnv,
  expose: parseExpose,
  from: parseFrom,
  healthcheck: parseHealthcheck,
  label: parseLabel,
  maintainer: parseMaintainer,
  onbuild: parseOnbuild,
  run: parseRun,
  shell: parseShell,
  stopsignal: parseStopsignal,
  user: parseUser,
  volume: parseVolume,
  workdir: parseWorkdir,
};

export function instructionParserFor(keyword: string): InstructionParser | undefined {
  const k = keyword.toLowerCase();
  return Object.hasOwn(parsers, k) ? parsers[k] : undefined;
}
