/**
 * `tsbuild` entry point: global flags, command dispatch, one-line errors.
 * Exit codes: the command's own (e.g. `run` propagates the container's),
 * 1 for an error, 2 for bad usage, 130 when interrupted.
 */
import { readFileSync } from 'node:fs'; // version() only
import { parseArgs } from 'node:util';
import { isCanceled, readUserFileSync } from '@tsbuild/core';
import type { Command, OptionSpec, ParsedArgs } from './command.js';
import { commands } from './commands/index.js';
import { defaultRoot, type CliContext } from './context.js';
import { formatError } from './format-error.js';

const GLOBAL_OPTIONS: OptionSpec = {
  root: { type: 'string' },
  debug: { type: 'boolean', short: 'D' },
  help: { type: 'boolean', short: 'h' },
};

export { UsageError } from './usage-error.js';
import { runAsProcess } from './process-guard.js';

/** The binary's entry (cli/bin/tsbuild.js): `main` with the process-level guard around it. */
export function runCli(argv: string[]): Promise<void> {
  return runAsProcess(main, argv);
}
import { UsageError } from './usage-error.js';
import { reclaimAtStart } from './reclaim.js';

export interface MainOptions {
  stdout?: NodeJS.WritableStream & import('node:stream').Writable;
  stderr?: NodeJS.WritableStream & import('node:stream').Writable;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const debug = argv.includes('--debug') || argv.includes('-D');

  const { global, rest } = splitGlobal(argv);
  const name = rest[0];
  if (!name || name === 'help' || (global.help && !name)) {
    stdout.write(topHelp());
    return name || global.help ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    stdout.write(`tsbuild ${version()}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    stderr.write(`error: unknown command "${name}" (see 'tsbuild --help')\n`);
    return 2;
  }

  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => controller.abort(new Error(`interrupted (${sig})`));
  const ownSignals = !options.signal;
  if (ownSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const signal = options.signal ?? controller.signal;
  try {
    const command = await entry.load();
    const args = parseCommandArgs(command, rest.slice(1));
    if (args.values.help) {
      stdout.write(commandHelp(command));
      return 0;
    }
    const root = typeof args.values.root === 'string' ? args.values.root : global.root ?? defaultRoot(env);
    const ctx: CliContext = { root, debug, stdout, stderr, stdin: process.stdin, signal, env };
    // login/logout keep credentials in docker's config, not in the store.
    if (command.name !== 'login' && command.name !== 'logout') await (await import('./store-access.js')).checkStoreRoot(root);
    // Every command reclaims what dead tsbuild processes left, except fsck, which reports it.
    if (command.name !== 'fsck') await reclaimAtStart(root, (m) => stderr.write(`warning: ${m}\n`));
    return await command.run(ctx, args);
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      stderr.write(`error: ${err.message}\nUsage: tsbuild ${entry.name} ${entry.usage}\n`);
      return 2;
    }
    stderr.write(formatError(err, { debug, readSource: tryRead }));
    return isCanceled(err) || signal.aborted ? 130 : 1;
  } finally {
    if (ownSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

/** Global flags may come before the command name: `tsbuild --root /x images`. */
function splitGlobal(argv: string[]): { global: { root?: string; help?: boolean }; rest: string[] } {
  const global: { root?: string; help?: boolean } = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--root') global.root = argv[++i];
    else if (a.startsWith('--root=')) global.root = a.slice(7);
    else if (a === '--debug' || a === '-D') continue;
    else if (a === '--help' || a === '-h') global.help = true;
    else break;
  }
  return { global, rest: argv.slice(i) };
}

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let head = argv;
  let tail: string[] = [];
  if (command.stopAtFirstPositional) {
    const idx = firstPositional(argv, options);
    if (idx >= 0) {
      head = argv.slice(0, idx + 1);
      tail = argv.slice(idx + 1);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: head, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw flagError(err);
  }
  const { values, positionals } = parsed;
  return { values: values as ParsedArgs['values'], positionals: [...positionals, ...tail] };
}

/**
 * node's parseArgs errors in the words of cobra/pflag, which docker and buildx
 * users know: `unknown flag: --foo`, `unknown shorthand flag: 'z' in -z`,
 * `flag needs an argument: --tag` (pflag's flag.go, failf calls).
 */
function flagError(err: unknown): unknown {
  if (!(err instanceof TypeError) || !('code' in err)) return err;
  const m = err.message;
  let hit: RegExpExecArray | null;
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && (hit = /^Unknown option '(-[^-'])'/.exec(m))) return new UsageError(`unknown shorthand flag: '${hit[1]!.slice(1)}' in ${hit[1]}`);
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && (hit = /^Unknown option '([^']+)'/.exec(m))) return new UsageError(`unknown flag: ${hit[1]!.split('=')[0]}`);
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && (hit = /^Option '(?:-\w, )?(--[^ ']+) <value>' argument missing/.exec(m))) return new UsageError(`flag needs an argument: ${hit[1]}`);
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && (hit = /^Option '(?:-\w, )?(--[^ ']+)' does not take an argument/.exec(m))) return new UsageError(`flag ${hit[1]} takes no value`);
  if (String(err.code).startsWith('ERR_PARSE_ARGS')) return new UsageError(m);
  return err;
}

function firstPositional(argv: string[], options: OptionSpec): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return -1;
    if (!a.startsWith('-') || a === '-') return i;
    if (a.includes('=')) continue;
    const spec = a.startsWith('--') ? options[a.slice(2)] : Object.values(options).find((o) => o.short === a.slice(1));
    if (spec?.type === 'string') i++;
  }
  return -1;
}

function tryRead(file: string): string | undefined {
  try {
    return readUserFileSync(file, 'the Dockerfile').toString('utf8');
  } catch {
    return undefined;
  }
}

function version(): string {
  // From dist/main.js, or from the bundle one level deeper (dist/bundle/).
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
      if (pkg.name === 'tsbuild') return pkg.version;
    } catch {
      // try the next
    }
  }
  return 'dev';
}

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: tsbuild [--root DIR] [--debug] COMMAND [OPTIONS]',
    '',
    'Build OCI images from Dockerfiles, cached by content; run them in real containers.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    '  --root DIR    store directory (default $TSBUILD_ROOT or ~/.local/share/tsbuild)',
    '  -D, --debug   print stack traces with errors',
    '',
    "Run 'tsbuild COMMAND --help' for a command's options.",
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  const lines = [`Usage: tsbuild ${c.name} ${c.usage}`, '', c.summary, ''];
  if (c.help?.length) {
    const w = Math.max(...c.help.map(([f]) => f.length));
    lines.push('Options:', ...c.help.map(([f, d]) => `  ${f.padEnd(w)}  ${d}`), '');
  }
  return lines.join('\n');
}
