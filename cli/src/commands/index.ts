import type { Command } from '../command.js';
import { buildCommand } from './build.js';
import { imagesCommand } from './images.js';
import { importCommand } from './import.js';
import { inspectCommand } from './inspect.js';
import { duCommand, fsckCommand, pruneCommand } from './maintenance.js';
import { psCommand } from './ps.js';
import { rmCommand } from './rm.js';
import { rmiCommand } from './rmi.js';
import { runCommand } from './run.js';
import { loadCommand, saveCommand } from './save-load.js';
import { tagCommand } from './tag.js';

/** Every command, in the order `tsbuild --help` lists them. */
export const commands: Command[] = [
  buildCommand,
  importCommand,
  imagesCommand,
  inspectCommand,
  tagCommand,
  runCommand,
  psCommand,
  rmCommand,
  rmiCommand,
  saveCommand,
  loadCommand,
  pruneCommand,
  duCommand,
  fsckCommand,
];
