/** The dispatcher of each stage instruction, keyed by keyword (FROM is handled by the stage itself). */
import type { Instruction, InstructionKind } from '../instructions/index.js';
import { dispatchArg } from './dispatch-arg.js';
import { dispatchCmd, dispatchEntrypoint } from './dispatch-command.js';
import type { Dispatcher } from './dispatch-context.js';
import { dispatchCopy } from './dispatch-copy.js';
import { dispatchEnv } from './dispatch-env.js';
import { dispatchExpose } from './dispatch-expose.js';
import { dispatchHealthcheck } from './dispatch-healthcheck.js';
import { dispatchLabel } from './dispatch-label.js';
import { dispatchMaintainer, dispatchOnbuild } from './dispatch-onbuild.js';
import { dispatchRun } from './dispatch-run.js';
import { dispatchShell } from './dispatch-shell.js';
import { dispatchStopsignal } from './dispatch-stopsignal.js';
import { dispatchUser } from './dispatch-user.js';
import { dispatchVolume } from './dispatch-volume.js';
import { dispatchWorkdir } from './dispatch-workdir.js';

type Table = { [K in Exclude<InstructionKind, 'FROM'>]: Dispatcher<Extract<Instruction, { kind: K }>> };

const table: Table = {
  RUN: dispatchRun, COPY: dispatchCopy, ADD: dispatchCopy, ENV: dispatchEnv, LABEL: dispatchLabel, ARG: dispatchArg,
  WORKDIR: dispatchWorkdir, USER: dispatchUser, EXPOSE: dispatchExpose, VOLUME: dispatchVolume, STOPSIGNAL: dispatchStopsignal,
  CMD: dispatchCmd, ENTRYPOINT: dispatchEntrypoint, SHELL: dispatchShell, HEALTHCHECK: dispatchHealthcheck,
  ONBUILD: dispatchOnbuild, MAINTAINER: dispatchMaintainer,
};

export function dispatcherFor(kind: Exclude<InstructionKind, 'FROM'>): Dispatcher {
  return table[kind] as Dispatcher;
}
