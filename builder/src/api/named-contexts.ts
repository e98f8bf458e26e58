/**
 * `--build-context NAME=VALUE`: BuildKit's named contexts
 * (frontend/dockerui/namedcontext.go, dockerfile2llb/convert.go).
 *
 * Values: `docker-image://REF` (an image of the store replaces the name),
 * `oci-layout://DIR[:TAG|@DIGEST]` (an image from an OCI layout directory, its
 * blobs copied into the store; default tag `latest`), or a local directory
 * (filtered by the `.dockerignore` at its own root, checksummed like the main
 * context). git and http(s) contexts are refused (BUILD_UNSUPPORTED).
 *
 * Names match as BuildKit matches them: the Dockerfile's name in familiar
 * form without `:latest` (`FROM docker.io/library/alpine:latest` looks up
 * `alpine`). Precedence: a named context named like a stage replaces that
 * stage (its instructions are dropped); otherwise it replaces the image
 * reference of a FROM, COPY --from or RUN --mount from= that names no stage.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  FailedPreconditionError, InvalidArgumentError, formatPlatform, isDigest, parseReference,
  familiarReference, throwIfAborted, type Descriptor, type ImageConfig, type Platform,
} from '@tsbuild/core';
import { copyBlob, openLayout, resolveImage, type Store } from '@tsbuild/store';
import { createMatcher, readDockerignore, type PatternMatcher, type ParsedInstructions } from '@tsbuild/dockerfile';
import type { ResolvedBase } from '../definition/types.js';

export type NamedContextSpec =
  | { kind: 'image'; name: string; ref: string }
  | { kind: 'oci-layout'; name: string; dir: string; tag?: string; digest?: string }
  | { kind: 'local'; name: string; dir: string };

/** A local directory named context, ready for the definition. */
export interface LocalContext {
  name: string;
  dir: string;
  ignore: PatternMatcher | undefined;
  /** What a FROM of it starts with: BuildKit's empty image (WorkingDir /, default PATH) and one history entry for its layer. */
  config: ImageConfig;
}

/** The lookup key of a name: BuildKit's familiar form without `:latest`; a name that is no reference, lowercased. */
export function contextKey(name: string): string {
  try {
    return familiarReference(parseReference(name)).replace(/:latest$/, '');
  } catch {
    return name.toLowerCase();
  }
}

export function parseNamedContexts(contexts: Record<string, string>, cwd = process.cwd()): Map<string, NamedContextSpec> {
  const out = new Map<string, NamedContextSpec>();
  for (const [name, value] of Object.entries(contexts)) {
    if (name === '' || value === '') throw new InvalidArgumentError(`invalid --build-context ${name}=${value}: NAME=VALUE expected`, { code: 'BUILD_INVALID_CONTEXT' });
    out.set(contextKey(name), parseValue(name, value, cwd));
  }
  return out;
}

function parseValue(name: string, value: string, cwd: string): NamedContextSpec {
  if (value.startsWith('docker-image://')) {
    const ref = value.slice('docker-image://'.length);
    parseReference(ref);
    return { kind: 'image', name, ref };
  }
  if (value.startsWith('oci-layout://')) {
    let rest = value.slice('oci-layout://'.length);
    const at = rest.lastIndexOf('@');
    if (at >= 0 && isDigest(rest.slice(at + 1))) return { kind: 'oci-layout', name, dir: resolve(cwd, rest.slice(0, at)), digest: rest.slice(at + 1) };
    let tag = 'latest';
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      tag = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
    return { kind: 'oci-layout', name, dir: resolve(cwd, rest), tag };
  }
  if (/^(https?|git|ssh):\/\/|^git@|^(target|input|local):/.test(value)) {
    throw new InvalidArgumentError(`--build-context ${name}=${value}: this kind of context is not supported yet`, { code: 'BUILD_UNSUPPORTED' });
  }
  return { kind: 'local', name, dir: resolve(cwd, value) };
}

/** A local context: the directory must exist; its own `.dockerignore` applies. */
export async function openLocalContext(spec: Extract<NamedContextSpec, { kind: 'local' }>, platform: Platform): Promise<LocalContext> {
  const st = await stat(spec.dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new InvalidArgumentError(`--build-context ${spec.name}: ${spec.dir} is not a directory`, { code: 'BUILD_INVALID_CONTEXT' });
  }
  let ignore: PatternMatcher | undefined;
  try {
    ignore = createMatcher(readDockerignore(await readFile(join(spec.dir, '.dockerignore'), 'utf8')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const config: ImageConfig = {
    // BuildKit's resolveBaseImage gives a context without an image config emptyImage (dockerfile2llb/image.go): WorkingDir "/"
    // and the default PATH; the PATH is added where a stage starts from it (dockerfile's dispatch-stage.ts, as for any base without one).
    architecture: platform.architecture, os: platform.os, config: { WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [{ created_by: `[context ${spec.name}] load from client`, comment: 'buildkit.exporter.image.v0' }],
  };
  return { name: spec.name, dir: spec.dir, ignore, config };
}

/**
 * An image from an OCI layout directory (`:TAG` matched against the layout's
 * ref names, `@DIGEST` against its index or blobs) resolved for `platform`;
 * the manifest, config and layers are copied into the store.
 */
export async function resolveLayoutBase(
  store: Store, spec: Extract<NamedContextSpec, { kind: 'oci-layout' }>, platform: Platform, signal: AbortSignal | undefined,
): Promise<ResolvedBase> {
  const layout = await openLayout(spec.dir);
  const cancel = signal ? { signal } : {};
  const records = await layout.images.list();
  let target: Descriptor | undefined;
  if (spec.digest !== undefined) {
    target = records.find((r) => r.target.digest === spec.digest)?.target;
    if (!target) {
      const bytes = await readFile(join(spec.dir, 'blobs', ...spec.digest.split(':'))).catch(() => undefined);
      const mediaType = bytes ? (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType : undefined;
      if (bytes && mediaType) target = { mediaType, digest: spec.digest as Descriptor['digest'], size: bytes.length };
    }
  } else {
    const tag = spec.tag ?? 'latest';
    target = records.find((r) => r.name === tag)?.target ?? records.find((r) => r.name.endsWith(`:${tag}`))?.target;
    if (!target && records.length === 1 && tag === 'latest' && !records[0]!.name.includes(':')) target = records[0]!.target;
  }
  if (!target) {
    throw new FailedPreconditionError(`--build-context ${spec.name}: no image ${spec.digest ?? spec.tag} in the OCI layout ${spec.dir}`, { code: 'BUILD_CONTEXT_NOT_FOUND' });
  }
  throwIfAborted(signal);
  const resolved = await resolveImage(layout.content, target, { platform, ...cancel });
  for (const d of [resolved.configDescriptor, ...resolved.manifest.layers, resolved.manifestDescriptor]) {
    await copyBlob(layout.content, store.content, d, cancel);
  }
  return {
    ref: layoutRef(spec.name, resolved.manifestDescriptor.digest),
    manifestDigest: resolved.manifestDescriptor.digest,
    platform: formatPlatform(platform),
    layers: resolved.manifest.layers,
    diffIDs: resolved.config.rootfs.diff_ids,
    config: resolved.config,
  };
}

/** BuildKit's "dummy ref" for a layout image: the context's name pinned to the manifest digest. */
function layoutRef(name: string, digest: string): string {
  try {
    const r = parseReference(name);
    return familiarReference({ registry: r.registry, repository: r.repository, digest: digest as Descriptor['digest'] });
  } catch {
    return `${name}@${digest}`;
  }
}

/**
 * BuildKit's precedence for a named context named like a stage: the stage is
 * replaced by the context (its instructions are dropped). Returns the parsed
 * instructions with each such stage turned into `FROM <placeholder>`, and the
 * placeholder → context key map.
 */
export function replaceStages(parsed: ParsedInstructions, contexts: ReadonlyMap<string, NamedContextSpec>): { parsed: ParsedInstructions; placeholders: Map<string, string> } {
  const placeholders = new Map<string, string>();
  const stages = parsed.stages.map((s) => {
    if (s.name === undefined || !contexts.has(contextKey(s.name))) return s;
    const ref = `named-context.tsbuild.invalid/c${Buffer.from(s.name).toString('hex')}`;
    placeholders.set(ref, contextKey(s.name));
    return { ...s, from: { ...s.from, image: ref }, instructions: [] };
  });
  return { parsed: { ...parsed, stages }, placeholders };
}

/** The named context an image reference of the Dockerfile stands for, if any. */
export function lookupContext(ref: string, contexts: ReadonlyMap<string, NamedContextSpec>, placeholders: ReadonlyMap<string, string>): NamedContextSpec | undefined {
  return contexts.get(placeholders.get(ref) ?? contextKey(ref));
}
