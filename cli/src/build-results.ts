/**
 * What `tsbuild build` leaves behind after a build: --iidfile (the config
 * digest, docker's image ID), --metadata-file (buildx's JSON keys), and the
 * --trace / --report files. Writes are temp file + rename, so a reader never
 * sees half a file.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { InvalidArgumentError } from '@tsbuild/core';
import type { BuildEvent, BuildResult } from '@tsbuild/builder';
import { htmlReport } from './report/html-report.js';
import { chromeTrace } from './trace/chrome-trace.js';

/** buildx's --metadata-file keys, with whatever else the builder reported. */
export function buildMetadata(result: BuildResult): Record<string, unknown> {
  return {
    'containerimage.digest': result.digest,
    'containerimage.config.digest': result.configDigest,
    ...(result.tags.length ? { 'image.name': result.tags.join(',') } : {}),
    ...result.metadata,
  };
}

export async function writeResultFiles(result: BuildResult, files: { iidfile?: string; metadataFile?: string }): Promise<void> {
  if (files.iidfile) await atomicWrite(files.iidfile, result.configDigest);
  if (files.metadataFile) await atomicWrite(files.metadataFile, JSON.stringify(buildMetadata(result), null, 2) + '\n');
}

/** --trace and --report: written for failed builds too — that is when they are most wanted. */
export async function writeEventFiles(events: BuildEvent[], files: { trace?: string; report?: string }): Promise<void> {
  if (files.trace) await atomicWrite(files.trace, JSON.stringify(chromeTrace(events)) + '\n');
  if (files.report) await atomicWrite(files.report, htmlReport(events));
}

/** Temp + rename: a FIFO or device at `path` is replaced, never opened (so never waited on). */
async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOTDIR' ? 'a parent is not a directory' : code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new InvalidArgumentError(`cannot write ${path}: ${why}`, { code: 'BUILD_RESULT_FILE_UNWRITABLE', cause: err });
  }
}
