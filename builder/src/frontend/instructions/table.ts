/** Keyword (lowercase) → converter: the one place an instruction is found. */
import { convertAdd } from './add.js';
import { convertArg } from './arg.js';
import { convertCmd } from './cmd.js';
import type { ConvertContext } from './context.js';
import { convertCopy } from './copy.js';
import { convertEntrypoint } from './entrypoint.js';
import { convertEnv } from './env.js';
import { convertExpose } from './expose.js';
import { convertFrom } from './from.js';
import { convertHealthcheck } from './healthcheck.js';
import { convertLabel } from './label.js';
import { convertMaintainer } from './maintainer.js';
import { convertOnbuild } from './onbuild.js';
import { convertRun } from './run.js';
import { convertShell } from './shell.js';
import { convertStopsignal } from './stopsignal.js';
import type { Instruction } from './types.js';
import { convertUser } from './user.js';
import { convertVolume } from './volume.js';
import { convertWorkdir } from './workdir.js';

export type Converter = (ctx: ConvertContext) => Instruction;

export const converters: Readonly<Record<string, Converter>> = {
  add: convertAdd,
  arg: convertArg,
  cmd: convertCmd,
  copy: convertCopy,
  entrypoint: convertEntrypoint,
  env: convertEnv,
  expose: convertExpose,
  from: convertFrom,
  healthcheck: convertHealthcheck,
  label: convertLabel,
  maintainer: convertMaintainer,
  onbuild: convertOnbuild,
  run: convertRun,
  shell: convertShell,
  stopsignal: convertStopsignal,
  user: convertUser,
  volume: convertVolume,
  workdir: convertWorkdir,
};

export function converterFor(keyword: string): Converter | undefined {
  const k = keyword.toLowerCase();
  return Object.hasOwn(converters, k) ? converters[k] : undefined;
}
