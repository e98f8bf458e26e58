/**
 * What client and server exchange (docs/server-protocol.md): the build
 * request — BuildOptions without what names the client's machine (paths,
 * environment, callbacks) — the lines of the build response, and the error
 * shape. Shared by client.ts and build-handler.ts so the two cannot drift.
 */
import type { BuildEvent, BuildOptions, BuildResult } from '@tsbuild/builder';
import { CanceledError, DockerfileError, TsbuildError, type ErrorCategory, type SourceRange } from '@tsbuild/core';
import type { TreeEntry } from './tree.js';

export const PROTOCOL_VERSION = 1;

/** Options a remote build takes as they are; everything else in BuildOptions names the client's machine. */
export const REMOTE_OPTION_KEYS = [
  'tags', 'target', 'buildArgs', 'labels', 'network', 'noCache', 'noCacheFilter', 'platform', 'buildContexts', 'contextHash',
  'allowInsecure', 'allowNetworkHost', 'extraHosts', 'annotations', 'shmSize', 'ulimits', 'sourceDateEpoch', 'compression', 'mediaTypes', 'pull',
  // Registry caches only (checkRemoteCaches): a type=local cache names a directory of the client's.
  'cacheFrom', 'cacheTo',
] as const satisfies ReadonlyArray<keyof BuildOptions>;

export type RemoteOptions = Pick<BuildOptions, (typeof REMOTE_OPTION_KEYS)[number]>;

/** An output as the server makes it: archives and trees are written on the server and streamed back. */
export type RemoteOutput = { type: 'image'; name?: string[] } | { type: 'oci' | 'docker'; name?: string[] } | { type: 'tar' } | { type: 'local' };

export interface RemoteSecret {
  id: string;
  /** The value, base64: held in the server's memory for this build only. */
  value: string;
  cacheMode?: 'content';
}

export interface BuildRequest {
  version: number;
  /** The client's name for its context copy on the server (per client identity). */
  contextId: string;
  /** The Dockerfile's path inside the context (messages, the Dockerfile-specific .dockerignore). */
  dockerfile: string;
  dockerfileText: string;
  options: RemoteOptions;
  outputs: RemoteOutput[];
  secrets: RemoteSecret[];
  /** The context listing (tree.ts listContext). */
  entries: TreeEntry[];
}

export interface WireError {
  category: ErrorCategory;
  code: string;
  message: string;
  file?: string;
  range?: SourceRange;
}

export type ResponseLine =
  | { type: 'need'; files: number[] }
  | { type: 'context'; files: number; bytes: number }
  | { type: 'event'; event: BuildEvent }
  | { type: 'result'; build: string; result: BuildResult; outputs: Array<{ index: number; type: RemoteOutput['type'] }> }
  | { type: 'error'; error: WireError };

export function toWireError(err: unknown): WireError {
  if (err instanceof DockerfileError) return { category: err.category, code: err.code, message: err.message, file: err.file, ...(err.range ? { range: err.range } : {}) };
  if (err instanceof TsbuildError) return { category: err.category, code: err.code, message: err.message };
  return { category: 'Internal', code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** The client's side: the same error classes a local build throws, where the shape says which. */
export function fromWireError(e: WireError): TsbuildError {
  if (e.category === 'Canceled') return new CanceledError(e.message);
  if (e.file !== undefined) return new DockerfileError(e.message, e.file, e.range, { code: e.code });
  return new TsbuildError(e.category, e.message, { code: e.code });
}

/**
 * A remote build's caches must be registry (or inline) caches: a `type=local`
 * cache is a directory, and the client's directories are not the server's
 * (nor may a client name one of the server's). Throws the message to answer.
 */
export function remoteCacheProblem(options: Pick<BuildOptions, 'cacheFrom' | 'cacheTo'>): string | undefined {
  for (const spec of [...(options.cacheFrom ?? []), ...(options.cacheTo ?? [])]) {
    if (!spec || typeof spec !== 'object' || !['registry', 'inline'].includes((spec as { type?: unknown }).type as string)) {
      return `a remote build takes only registry and inline caches (--cache-from/--cache-to type=registry|inline), not ${JSON.stringify((spec as { type?: unknown } | undefined)?.type ?? spec)}`;
    }
  }
  return undefined;
}
