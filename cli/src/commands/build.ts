/**
 * `tsbuild build [OPTIONS] CONTEXT`: flags (build-flags.ts) → the frontend
 * only (--print, --check, --call) or the builder's build with a progress UI, then the
 * files a build leaves (--iidfile, --metadata-file, --trace, --report).
 *
 * Exit codes: 0 built; 1 the build or the check failed (one error line, the
 * Dockerfile snippet or the failing step's last output); 2 bad flags; 130
 * interrupted (the builder cleans up when ctx.signal aborts).
 */
import { accessSync, constants } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { defaultGcPolicies, defineBuild, pruneBuildCache, type BuildEvent, type BuildOptions, type BuildResult } from '@tsbuild/builder';
import type { RegistryClient, RegistryClientOptions } from '@tsbuild/registry-client';
import { DockerfileError, ExecError, isCanceled, readUserFile, readUserFileSync, UserPathError } from '@tsbuild/core';
import type { Store } from '@tsbuild/store';
import type { Command, ParsedArgs } from '../command.js';
import type { CliContext } from '../context.js';
import { runCall } from '../build-call.js';
import { runCheck, runPrint, type FrontendInput } from '../build-check.js';
import { readStdinText, unpackStdinContext, type TempContext } from '../build-context-stdin.js';
import { BUILD_OPTIONS, parseBuildFlags, type BuildInvocation, type PushSpec } from '../build-flags.js';
import { BUILD_HELP } from '../build-help.js';
import { writeEventFiles, writeResultFiles } from '../build-results.js';
import { formatError } from '../format-error.js';
import { escapeControls } from '../terminal-text.js';
import { createProgressWriter } from '../progress/index.js';
import { applyEvent, createModel, type ProgressModel } from '../progress/model.js';
import { lazyImagePuller } from '../build-puller.js';
import { registryClientOptions } from '../registry-flags.js';
import { builderBuild, openBuildDeps } from '../run-build.js';
import { storeFor } from '../store-access.js';

export const buildCommand: Command = {
  name: 'build',
  summary: 'Build an image from a Dockerfile',
  usage: '[OPTIONS] CONTEXT|-',
  help: BUILD_HELP,
  options: BUILD_OPTIONS,
  async run(ctx, args) {
    const inv = parseBuildFlags(args, ctx.env);
    let temp: TempContext | undefined;
    try {
      const contextDir = inv.context === '-' ? (temp = await unpackStdinContext(ctx.stdin, ctx.root, ctx.signal)).dir : resolve(inv.context);
      if (!(await stat(contextDir).catch(() => undefined))?.isDirectory()) {
        ctx.stderr.write(`error: build context ${JSON.stringify(inv.context)} is not a directory\n`);
        return 1;
      }
      const df = await loadDockerfile(inv, contextDir, ctx.stdin);
      const input: FrontendInput = {
        text: df.text, file: df.file,
        ...(inv.options.buildArgs ? { buildArgs: inv.options.buildArgs } : {}),
        ...(inv.options.target !== undefined ? { target: inv.options.target } : {}),
      };
      try {
        if (inv.print === 'definition') return await printDefinition(ctx, inv, contextDir, df, args);
        if (inv.print) return runPrint(input, inv.print, ctx.stdout);
        if (inv.call) return runCall(input, inv.call, ctx.stdout);
        if (inv.check) return runCheck(input, ctx.stdout);
        const missing = missingSecret(inv, ctx.env);
        if (missing) {
          ctx.stderr.write(`error: ${missing}\n`);
          return 1;
        }
        return await runBuild(ctx, inv, contextDir, df, args);
      } catch (err) {
        if (!(err instanceof DockerfileError)) throw err;
        ctx.stderr.write(formatError(err, { debug: ctx.debug, readSource: (f) => (f === df.file ? df.text : tryRead(f)) }));
        return 1;
      }
    } finally {
      await temp?.cleanup();
    }
  },
};

interface LoadedDockerfile {
  text: string;
  /** Its name in messages: relative to the context when inside it (`Dockerfile`), else as given. */
  file: string;
  /** Absolute path; undefined for `-f -`. */
  path?: string;
}

async function loadDockerfile(inv: BuildInvocation, contextDir: string, stdin: NodeJS.ReadableStream): Promise<LoadedDockerfile> {
  if (inv.dockerfile === '-') return { text: await readStdinText(stdin), file: 'Dockerfile' };
  // -f is relative to the working directory, except inside a context that came on stdin.
  const path = inv.dockerfile === undefined ? join(contextDir, 'Dockerfile')
    : inv.context === '-' && !isAbsolute(inv.dockerfile) ? join(contextDir, inv.dockerfile) : resolve(inv.dockerfile);
  const rel = relative(contextDir, path);
  const file = rel && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel) ? rel : inv.dockerfile ?? path;
  let text: string;
  try {
    text = (await readUserFile(path, 'the Dockerfile')).toString('utf8');
  } catch (err) {
    const why = err instanceof UserPathError ? `${err.path} is ${err.kind}, not a regular file`
      : (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new DockerfileError(`cannot read the Dockerfile: ${why}`, file, undefined, { cause: err });
  }
  return { text, file, path };
}

/** `required` secrets whose file or variable is missing: caught before any step runs. Names the source, never a value. */
function missingSecret(inv: BuildInvocation, env: NodeJS.ProcessEnv): string | undefined {
  for (const s of inv.secrets) {
    if (!s.required) continue;
    if (s.env !== undefined && env[s.env] === undefined) return `secret ${JSON.stringify(s.id)}: environment variable ${s.env} is not set`;
    if (s.src !== undefined && !readable(s.src)) return `secret ${JSON.stringify(s.id)}: cannot read ${s.src}`;
  }
  return undefined;
}

async function runBuild(ctx: CliContext, inv: BuildInvocation, contextDir: string, df: LoadedDockerfile, args: ParsedArgs): Promise<number> {
  const progress = createProgressWriter(inv.progress, ctx.stderr, ctx.env);
  const model = createModel();
  const keep = inv.trace !== undefined || inv.report !== undefined;
  const events: BuildEvent[] = [];
  const options: BuildOptions = {
    ...inv.options,
    context: contextDir,
    ...(df.path ? { dockerfile: df.path } : { dockerfile: df.file, dockerfileText: df.text }),
    env: ctx.env,
    signal: ctx.signal,
    onEvent: (e) => {
      applyEvent(model, e);
      if (keep) events.push(e);
      progress.onEvent(e);
    },
  };
  const files = { ...(inv.trace ? { trace: inv.trace } : {}), ...(inv.report ? { report: inv.report } : {}) };
  const registry = () => registryClientOptions(args, ctx.env);
  let puller: ReturnType<typeof lazyImagePuller> | undefined;
  try {
    if (inv.load) options.outputs = await withDockerLoad(options.outputs, inv.load.names, ctx);
    let result: BuildResult;
    let pushed: Awaited<ReturnType<typeof pushBuilt>> | undefined;
    let local: Store | undefined;
    if (inv.server) {
      // The same options, events and result, built by the server (its store keeps type=image).
      const { remoteBuild } = await import('@tsbuild/server');
      result = await remoteBuild(options, inv.server);
      progress.close();
    } else {
      const store = (local = await storeFor(ctx));
      puller = lazyImagePuller(store, registry);
      const deps = await openBuildDeps({ store, ...(inv.runtime ? { runtime: inv.runtime } : {}), signal: ctx.signal });
      // One registry client for the registry caches, made on first use (a build without them does not load the client).
      let cacheClient: Promise<RegistryClient> | undefined;
      const cacheRegistry = () => (cacheClient ??= Promise.all([import('@tsbuild/registry-client'), registry()]).then(([m, o]) => new m.RegistryClient(o)));
      result = await builderBuild()(options, { ...deps, puller, registry: cacheRegistry })
        .finally(async () => (await cacheClient?.catch(() => undefined))?.close());
      await puller.close();
      progress.close();
      // With a push, containerimage.digest is the pushed manifest's (layers compressed for it), as buildx writes it.
      pushed = inv.push ? await pushBuilt(ctx, store, inv, inv.push, registry) : undefined;
    }
    await writeResultFiles(pushed ? { ...result, metadata: { ...result.metadata, ...pushedMetadata(pushed) } } : result, { ...(inv.iidfile ? { iidfile: inv.iidfile } : {}), ...(inv.metadataFile ? { metadataFile: inv.metadataFile } : {}) });
    await writeEventFiles(events, files);
    if (local && inv.gcKeepStorage !== undefined) await gcAfterBuild(ctx, local, inv.gcKeepStorage);
    // The image ID (config digest), as buildx prints it: getImageID in commands/build.go prefers containerimage.config.digest.
    if (inv.quiet) ctx.stdout.write(`${result.configDigest}\n`);
    return 0;
  } catch (err) {
    progress.close();
    await puller?.close().catch(() => {});
    await writeEventFiles(events, files).catch(() => {});
    const text = formatError(err, { debug: ctx.debug, readSource: (f) => (f === df.file || f === df.path ? df.text : tryRead(f)) });
    ctx.stderr.write(text + failedStepTail(err, model));
    return isCanceled(err) || ctx.signal.aborted ? 130 : 1;
  }
}

/**
 * `--load`: one more output, the docker archive streamed into the daemon (after asking that one answers, so a
 * missing daemon fails before the build). Without -o the image is still named in the store, as a plain build's is.
 */
async function withDockerLoad(outputs: BuildOptions['outputs'], names: string[], ctx: CliContext): Promise<BuildOptions['outputs']> {
  const { dockerLoadStream, dockerSocket, pingDocker } = await import('../docker-load.js');
  const socket = dockerSocket(ctx.env);
  await pingDocker(socket, ctx.signal);
  return [...(outputs ?? [{ type: 'image' }]), { type: 'docker', stream: dockerLoadStream(socket), to: `docker daemon at ${socket}`, ...(names.length ? { name: names } : {}) }];
}

/**
 * The automatic GC after a build, with buildkitd's default policies for the
 * cap (the server runs the same). The build has succeeded: a GC that fails
 * only warns.
 */
async function gcAfterBuild(ctx: CliContext, store: Store, keepBytes: number): Promise<void> {
  try {
    await pruneBuildCache(store, { signal: ctx.signal, policies: defaultGcPolicies(keepBytes) });
  } catch (err) {
    ctx.stderr.write(`warning: build cache GC failed: ${(err as Error).message}\n`);
  }
}

/** The build's push (loaded only then: the registry client and undici stay out of a plain build's start-up); one line per name. */
async function pushBuilt(ctx: CliContext, store: Store, inv: BuildInvocation, spec: PushSpec, registry: () => Promise<RegistryClientOptions>) {
  const { pushedLine, pushStoredImage } = await import('../registry-push.js');
  let last: Awaited<ReturnType<typeof pushStoredImage>> | undefined;
  for (const name of spec.names) {
    last = await pushStoredImage(store, name, {
      signal: ctx.signal, env: ctx.env, client: await registry(), warn: (m) => ctx.stderr.write(`warning: ${m}\n`),
      compression: spec.compression, ...(spec.force ? { forceCompression: true } : {}), ...(spec.level !== undefined ? { compressionLevel: spec.level } : {}),
    });
    (inv.quiet ? ctx.stderr : ctx.stdout).write(`${pushedLine(name, last)}\n`);
  }
  return last!;
}

/** BuildKit's exporter response keys for what was pushed (exporter/containerimage/export.go: ExporterImageDigestKey, ExporterImageDescriptorKey). */
function pushedMetadata(pushed: { digest: string; size: number; mediaType: string }): Record<string, unknown> {
  return { 'containerimage.digest': pushed.digest, 'containerimage.descriptor': { mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size } };
}

/** `--print definition`: the build up to its definition (bases from the store, or pulled into it), as JSON on stdout. */
async function printDefinition(ctx: CliContext, inv: BuildInvocation, contextDir: string, df: LoadedDockerfile, args: ParsedArgs): Promise<number> {
  const options: BuildOptions = {
    ...inv.options, context: contextDir, env: ctx.env, signal: ctx.signal,
    ...(df.path ? { dockerfile: df.path } : { dockerfile: df.file, dockerfileText: df.text }),
  };
  const store = await storeFor(ctx);
  const puller = lazyImagePuller(store, () => registryClientOptions(args, ctx.env));
  const { definition } = await defineBuild(options, store, puller).finally(() => puller.close());
  ctx.stdout.write(`${JSON.stringify(definition, null, 2)}\n`);
  return 0;
}

const TAIL = 10;

/** The failing step's last output lines, unless the error already carries them (ExecError). */
function failedStepTail(err: unknown, model: ProgressModel): string {
  if (err instanceof ExecError && err.outputTail) return '';
  const failed = [...model.vertices.values()].find((v) => v.state === 'error');
  if (!failed || failed.logs.length === 0) return '';
  // The step's own output, quoted in our summary: escaped like every other user text (terminal-text.ts).
  return escapeControls(`  ${failed.name}:\n` + failed.logs.slice(-TAIL).map((l) => `  ${l.line}\n`).join(''));
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function tryRead(file: string): string | undefined {
  try {
    return readUserFileSync(file, 'the Dockerfile').toString('utf8');
  } catch {
    return undefined;
  }
}
