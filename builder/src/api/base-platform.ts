/**
 * A FROM image of another platform than its stage's (`--platform linux/arm64`
 * over an amd64-only base: base-images.ts uses the store's plain manifest of
 * another platform when the right one cannot be pulled, e.g. under --offline).
 *
 * - A warning, as current BuildKit gives one: dockerfile2llb/convert.go
 *   resolveBaseImage calls validateBaseImagePlatform (validations.go) for each
 *   reachable FROM image, which compares OS and architecture only and runs the
 *   lint rule InvalidBaseImagePlatform (linter/ruleset.go) with its message
 *   `Base image NAME was pulled with platform "ACTUAL", expected "EXPECTED" for
 *   current build`, both formatted by platforms.FormatAll(platforms.Normalize(…)).
 * - The exported config keeps the platform its layers are. Here tsbuild differs
 *   from BuildKit on purpose (issue 15): convert.go's finalizeResultImage, for an
 *   explicit target platform, overwrites target.image.OS/Architecture with it,
 *   which labels amd64 binaries arm64.
 */
import type { Platform } from '@tsbuild/core';
import type { StageGraph } from '@tsbuild/dockerfile';
import { platformLabel } from '../definition/naming.js';
import type { ResolvedBase } from '../definition/types.js';
import type { BuildWarning } from './events.js';

/** One InvalidBaseImagePlatform warning per reachable stage whose FROM image is of another OS or architecture. */
export function baseImagePlatformWarnings(graph: StageGraph, images: Map<string, ResolvedBase>, file: string): BuildWarning[] {
  const out: BuildWarning[] = [];
  for (const index of graph.reachable) {
    const stage = graph.stages[index]!;
    if (stage.base.kind !== 'image') continue;
    const actual = configPlatform(images.get(stage.base.ref));
    if (!actual || (actual.os === stage.platform.os && actual.architecture === stage.platform.architecture)) continue;
    out.push({
      rule: 'InvalidBaseImagePlatform',
      message: `Base image ${stage.base.ref} was pulled with platform "${platformLabel(actual)}", expected "${platformLabel(stage.platform)}" for current build`,
      file,
      range: stage.fromRange,
    });
  }
  return out;
}

/** The platform to write into the image config: the requested one, unless the base's layers are of another OS or architecture. */
export function exportPlatform(requested: Platform, base: ResolvedBase | undefined): Platform {
  const actual = configPlatform(base);
  if (!actual || (actual.os === requested.os && actual.architecture === requested.architecture)) return requested;
  return actual;
}

function configPlatform(base: ResolvedBase | undefined): Platform | undefined {
  const c = base?.config;
  if (!c?.os || !c.architecture) return undefined;
  return { os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) };
}
