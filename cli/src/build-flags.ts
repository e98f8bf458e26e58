/**
 * `tsbuild build` flags → a BuildInvocation: the builder's BuildOptions plus
 * what only the CLI does (progress UI, --print/--check, files to write). The
 * flag names and value syntax are buildx's, so `docker buildx build` muscle
 * memory works. Pure except for reading `env` (for `--build-arg K` and
 * SOURCE_DATE_EPOCH); every bad value is a UsageError naming its flag.
 */
import { normalizeReference, parsePlatform, type Compression } from '@tsbuild/core';
import type { BuildOptions, OutputSpec } from '@tsbuild/builder';
import type { ServerTarget } from '@tsbuild/server';
import { ramInBytes, type PrintFormat } from '@tsbuild/dockerfile';
import { list, str, flag, type OptionSpec, type ParsedArgs } from './command.js';
import { keyValue, parseBuildArgs, parseOutput, parseSecret, parseSsh, type DockerLoadOutput, type OutputImageOptions, type ParsedSecret } from './build-flag-values.js';
import { parseAnnotations } from './build-flag-annotations.js';
import { parseCall, type CallSpec } from './build-call.js';
import { parseAddHosts, parseCgroupParent, parseShmSize, parseUlimits } from './build-flag-run.js';
import { LATER_BUILD_OPTIONS, rejectLaterFlags } from './build-flags-later.js';
import { parseCacheFrom, parseCacheTo } from './build-flag-cache.js';
import { PROGRESS_MODES, type ProgressMode } from './progress/index.js';
import { REGISTRY_OPTIONS } from './registry-flags.js';
import { UsageError } from './usage-error.js';

export const BUILD_OPTIONS: OptionSpec = {
  tag: { type: 'string', short: 't', multiple: true },
  file: { type: 'string', short: 'f' },
  target: { type: 'string' },
  'build-arg': { type: 'string', multiple: true },
  secret: { type: 'string', multiple: true },
  ssh: { type: 'string', multiple: true },
  label: { type: 'string', multiple: true },
  network: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'no-cache-filter': { type: 'string', multiple: true },
  progress: { type: 'string' },
  output: { type: 'string', short: 'o', multiple: true },
  iidfile: { type: 'string' },
  'metadata-file': { type: 'string' },
  platform: { type: 'string', multiple: true },
  'build-context': { type: 'string', multiple: true },
  check: { type: 'boolean' },
  call: { type: 'string' },
  print: { type: 'string' },
  'context-hash': { type: 'string' },
  allow: { type: 'string', multiple: true },
  compression: { type: 'string' },
  runtime: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  push: { type: 'boolean' },
  load: { type: 'boolean' },
  pull: { type: 'boolean' },
  offline: { type: 'boolean' },
  ...REGISTRY_OPTIONS,
  trace: { type: 'string' },
  report: { type: 'string' },
  'add-host': { type: 'string', multiple: true },
  'shm-size': { type: 'string' },
  annotation: { type: 'string', multiple: true },
  ulimit: { type: 'string', multiple: true },
  'cgroup-parent': { type: 'string' },
  'gc-keep-storage': { type: 'string' },
  'cache-from': { type: 'string', multiple: true },
  'cache-to': { type: 'string', multiple: true },
  server: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  ...LATER_BUILD_OPTIONS,
};

export interface BuildInvocation {
  /** A directory, or `-` for a tar on stdin. */
  context: string;
  /** `-f`: a path, `-` for stdin, or undefined for `<context>/Dockerfile`. */
  dockerfile?: string;
  /** What goes to the builder (context/dockerfile filled in by the command). */
  options: Omit<BuildOptions, 'context' | 'dockerfile' | 'dockerfileText' | 'signal' | 'onEvent' | 'env'>;
  secrets: ParsedSecret[];
  progress: ProgressMode;
  quiet: boolean;
  check: boolean;
  /** `--call outline|targets|check[,format=json]` (not `build`, the default): a subrequest answered instead of building. */
  call?: CallSpec;
  /** `--load` (or `-o type=docker` without dest): the image into the docker daemon too; `names` beside the -t names. */
  load?: { names: string[] };
  /** What is pushed after the build (`--push`, `-o type=image,push=true`, `-o type=registry`); none: nothing. */
  push?: PushSpec;
  /** A frontend print (no store), or `definition`: the build's definition as JSON (images resolved from the store, nothing run). */
  print?: PrintFormat | 'definition';
  runtime?: string;
  iidfile?: string;
  metadataFile?: string;
  trace?: string;
  report?: string;
  /** `--gc-keep-storage` / TSBUILD_GC_KEEP_STORAGE: after a successful build, GC the build cache down to this many bytes. */
  gcKeepStorage?: number;
  /** `--server` (or TSBUILD_SERVER): build on that build server instead of in this process. */
  server?: ServerTarget;
}

/** Names to push and how their layers are compressed on the way (BuildKit's image exporter options). */
export interface PushSpec {
  names: string[];
  /** Default gzip, as BuildKit's (util/compression.Default). */
  compression: Compression;
  force?: boolean;
  level?: number;
}

export function parseBuildFlags(args: ParsedArgs, env: NodeJS.ProcessEnv): BuildInvocation {
  const context = args.positionals[0];
  if (!context) throw new UsageError('a build context (a directory, or - for a tar on stdin) is required');
  if (args.positionals.length > 1) throw new UsageError(`one build context expected, got ${args.positionals.length}`);
  rejectLaterFlags(args);
  const dockerfile = str(args, 'file');
  if (context === '-' && dockerfile === '-') throw new UsageError('-f - and a context on stdin (-) cannot both read stdin');

  const options: BuildInvocation['options'] = {};
  const tags = list(args, 'tag').map((t) => wrap('--tag', () => normalizeReference(t)));
  if (tags.length) options.tags = tags;
  const target = str(args, 'target');
  if (target !== undefined) options.target = target;
  const buildArgs = parseBuildArgs(list(args, 'build-arg'), env);
  if (Object.keys(buildArgs).length) options.buildArgs = buildArgs;
  const secrets = list(args, 'secret').map(parseSecret);
  if (secrets.length) options.secrets = secrets.map(({ required: _required, ...s }) => s);
  const ssh = list(args, 'ssh').map(parseSsh);
  if (ssh.length) options.ssh = ssh;
  const labels = Object.fromEntries(list(args, 'label').map((l) => keyValue('--label', l)));
  if (Object.keys(labels).length) options.labels = labels;
  // buildx's --add-host is a StringSlice: commas separate entries too.
  const extraHosts = parseAddHosts(list(args, 'add-host').flatMap((v) => v.split(',')));
  if (extraHosts.length) options.extraHosts = extraHosts;
  const shmSize = parseShmSize(str(args, 'shm-size'));
  if (shmSize) options.shmSize = shmSize;
  const annotations = parseAnnotations(list(args, 'annotation'));
  if (annotations.length) options.annotations = annotations;
  const ulimits = parseUlimits(list(args, 'ulimit'));
  if (ulimits.length) options.ulimits = ulimits;
  const cgroupParent = parseCgroupParent(str(args, 'cgroup-parent'));
  if (cgroupParent) options.cgroupParent = cgroupParent;
  const network = oneOf('--network', str(args, 'network'), ['host', 'none', 'default'] as const);
  if (network && network !== 'default') options.network = network;
  if (flag(args, 'no-cache')) options.noCache = true;
  const filters = list(args, 'no-cache-filter').flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  if (filters.length) options.noCacheFilter = filters;
  const imageOptions: OutputImageOptions = {};
  const parsedOutputs = list(args, 'output').map((o) => parseOutput(o, imageOptions));
  const requested = parsedOutputs.filter((o): o is OutputSpec => !('load' in o));
  // The builder tags; pushing is the CLI's (the builder does not talk to registries): a push output is an image output here.
  const outputs: OutputSpec[] = requested.map((o) => (o.type === 'image' ? { type: 'image', ...(o.name ? { name: o.name } : {}) } : o));
  if (outputs.length) options.outputs = outputs;
  // --load is shorthand for --output type=docker (docker's documentation of `buildx build --load`; buildx's own code
  // is not available here to read): both ask for one load into the daemon, under the -t names and any name=.
  const loads = parsedOutputs.filter((o): o is DockerLoadOutput => 'load' in o);
  const load = flag(args, 'load') || loads.length > 0 ? { names: unique(loads.flatMap((o) => o.name ?? [])) } : undefined;
  if (imageOptions.mediaTypes) options.mediaTypes = imageOptions.mediaTypes;
  if (imageOptions.compression) options.compression = imageOptions.compression;
  if (list(args, 'platform').length > 0) {
    // Repeatable, and a value may list several (`linux/amd64,linux/arm64`): more than one makes a multi-platform build.
    options.platform = wrap('--platform', () => {
      const platforms = list(args, 'platform').flatMap((v) => v.split(',')).map((p) => p.trim()).filter(Boolean);
      for (const p of platforms) parsePlatform(p);
      return platforms.join(',');
    });
  }
  const contexts = Object.fromEntries(list(args, 'build-context').map((c) => keyValue('--build-context', c)));
  if (Object.keys(contexts).length) options.buildContexts = contexts;
  const contextHash = oneOf('--context-hash', str(args, 'context-hash'), ['exact', 'content'] as const);
  if (contextHash) options.contextHash = contextHash;
  for (const a of list(args, 'allow').flatMap((v) => v.split(','))) {
    if (a === 'security.insecure') options.allowInsecure = true;
    else if (a === 'network.host') options.allowNetworkHost = true;
    else throw new UsageError(`--allow: unknown entitlement ${JSON.stringify(a)} (security.insecure, network.host)`);
  }
  const compression = oneOf('--compression', str(args, 'compression'), ['gzip', 'zstd', 'none'] as const);
  if (compression) options.compression = compression as Compression;
  // zstd has no Docker media type: refused as BuildKit's ImageCommitOpts.Validate refuses it (exporter/containerimage/opts.go).
  if (options.compression === 'zstd' && options.mediaTypes === 'docker') {
    throw new UsageError('--output: exporter option "compression=zstd" conflicts with "oci-mediatypes=false"');
  }
  if (env.SOURCE_DATE_EPOCH !== undefined && env.SOURCE_DATE_EPOCH !== '') {
    const epoch = Number(env.SOURCE_DATE_EPOCH);
    if (!Number.isInteger(epoch) || epoch < 0) throw new UsageError(`SOURCE_DATE_EPOCH: expected seconds since 1970, got ${JSON.stringify(env.SOURCE_DATE_EPOCH)}`);
    options.sourceDateEpoch = epoch;
  }

  if (flag(args, 'pull') && flag(args, 'offline')) throw new UsageError('--pull and --offline cannot be combined');
  if (flag(args, 'pull')) options.pull = 'always';
  if (flag(args, 'offline')) options.pull = 'never';
  const cacheFrom = list(args, 'cache-from').map(parseCacheFrom);
  if (cacheFrom.length) options.cacheFrom = cacheFrom;
  const cacheTo = list(args, 'cache-to').map(parseCacheTo);
  if (cacheTo.length) options.cacheTo = cacheTo;
  const push = pushSpec(flag(args, 'push'), tags, requested, imageOptions);
  const quiet = flag(args, 'quiet');
  const progress = oneOf('--progress', str(args, 'progress'), PROGRESS_MODES) ?? (quiet ? 'quiet' : 'auto');
  const print = oneOf('--print', str(args, 'print'), ['outline', 'dot', 'json', 'definition'] as const);
  const check = flag(args, 'check');
  if (print && check) throw new UsageError('--print and --check cannot be combined');
  const callFlag = str(args, 'call');
  const call = callFlag === undefined ? undefined : parseCall(callFlag);
  if (call && call.name !== 'build' && print) throw new UsageError('--print and --call cannot be combined');
  if (call && check && call.name !== 'check') throw new UsageError(`--check is --call check: it cannot be combined with --call ${call.name}`);
  const report = str(args, 'report');
  if (report !== undefined && !/\.html?$/i.test(report)) throw new UsageError(`--report: expected an .html file, got ${JSON.stringify(report)}`);

  const gcKeepStorage = parseGcKeepStorage(str(args, 'gc-keep-storage'), env);
  const server = serverTarget(args, env);
  if (server && push) throw new UsageError('pushing (--push, -o push=true) with --server is not supported yet (the image stays in the server\'s store)');

  return {
    context, ...(dockerfile !== undefined ? { dockerfile } : {}), options, secrets, progress, quiet, check, ...(push ? { push } : {}), ...(server ? { server } : {}),
    ...(load ? { load } : {}), ...(gcKeepStorage !== undefined ? { gcKeepStorage } : {}), ...(print ? { print } : {}), ...(call && call.name !== 'build' ? { call } : {}),
    ...optional('runtime', str(args, 'runtime')), ...optional('iidfile', str(args, 'iidfile')),
    ...optional('metadataFile', str(args, 'metadata-file')), ...optional('trace', str(args, 'trace')), ...optional('report', report),
  };
}

/** The flag, else TSBUILD_GC_KEEP_STORAGE; a size as docker reads one (units.RAMInBytes: `2g`, `512MB`). */
export function parseGcKeepStorage(value: string | undefined, env: NodeJS.ProcessEnv): number | undefined {
  const [text, name] = value !== undefined ? [value, '--gc-keep-storage'] : [env.TSBUILD_GC_KEEP_STORAGE, 'TSBUILD_GC_KEEP_STORAGE'];
  if (text === undefined || text === '') return undefined;
  const bytes = ramInBytes(text.trim());
  if (bytes === undefined || bytes === 0) throw new UsageError(`${name}: invalid size ${JSON.stringify(text)} (e.g. 2g, 512MB)`);
  return bytes;
}

/**
 * `--push` pushes every `-t`; an image output with `push=true` (or
 * `type=registry`) pushes the `-t` names and its own `name=`s, as buildx
 * hands the tags to the image exporter's name.
 */
function pushSpec(pushFlag: boolean, tags: string[], outputs: OutputSpec[], image: OutputImageOptions): PushSpec | undefined {
  const names = new Set<string>(pushFlag ? tags : []);
  const pushOutputs = outputs.filter((o): o is Extract<OutputSpec, { type: 'image' }> => o.type === 'image' && o.push === true);
  for (const o of pushOutputs) for (const n of [...tags, ...(o.name ?? []).map((r) => wrap('--output name=', () => normalizeReference(r)))]) names.add(n);
  if (!pushFlag && pushOutputs.length === 0) return undefined;
  if (names.size === 0) throw new UsageError(`${pushFlag ? '--push' : '--output push=true'} needs at least one -t/--tag or name= naming where to push`);
  const compression = image.compression ?? 'gzip';
  if (image.compressionLevel !== undefined) checkLevel(compression, image.compressionLevel);
  return {
    names: [...names], compression,
    ...(image.forceCompression ? { force: true } : {}), ...(image.compressionLevel !== undefined ? { level: image.compressionLevel } : {}),
  };
}

/** gzip's levels are zlib's 0–9, zstd's libzstd's 1–22. */
function checkLevel(compression: Compression, level: number): void {
  const [min, max] = compression === 'zstd' ? [1, 22] : [0, 9];
  if (compression === 'none' || level < min || level > max) {
    throw new UsageError(`--output: compression-level=${level} is not a level of compression=${compression === 'none' ? 'uncompressed' : compression}${compression === 'none' ? '' : ` (${min}–${max})`}`);
  }
}

/** `--server ADDR` or TSBUILD_SERVER, with `--tls-cert/--tls-key/--tls-ca` (all three for tcp://, as buildctl wants them). */
function serverTarget(args: ParsedArgs, env: NodeJS.ProcessEnv): ServerTarget | undefined {
  const address = str(args, 'server') ?? (env.TSBUILD_SERVER || undefined);
  const [cert, key, ca] = [str(args, 'tls-cert'), str(args, 'tls-key'), str(args, 'tls-ca')];
  if (!address) {
    if (cert ?? key ?? ca) throw new UsageError('--tls-cert, --tls-key and --tls-ca go with --server');
    return undefined;
  }
  if (!/^(unix|tcp):\/\//.test(address)) throw new UsageError(`--server: expected unix:///PATH or tcp://HOST:PORT, got ${JSON.stringify(address)}`);
  if (address.startsWith('unix://')) return { address };
  if (!cert || !key || !ca) throw new UsageError('--server tcp://… needs --tls-cert, --tls-key and --tls-ca (the server requires mutual TLS)');
  return { address, tls: { cert, key, ca } };
}

function oneOf<T extends string>(flagName: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flagName}: invalid value ${JSON.stringify(value)} (${allowed.join(', ')})`);
  return value as T;
}

function wrap<T>(flagName: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new UsageError(`${flagName}: ${(err as Error).message}`);
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined || value === '' ? {} : { [key]: value }) as { [P in K]?: string };
}
