/**
 * `--annotation [TYPES:]KEY=VALUE`, buildx's ParseAnnotations
 * (util/buildflags/export.go): TYPES is a comma list of `manifest`, `index`,
 * `manifest-descriptor`, `index-descriptor`, each with an optional
 * `[os/arch]`; no TYPES means the manifest (BuildKit's ParseAnnotationKey,
 * exporter/containerimage/exptypes/annotations.go). tsbuild writes one
 * manifest and no index, so only `manifest` annotations have a place; the
 * others answer "not supported yet".
 */
import { FailedPreconditionError, parsePlatform } from '@tsbuild/core';
import { UsageError } from './usage-error.js';

const TYPE = /^([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?$/;
const KNOWN = new Set(['manifest', 'index', 'manifest-descriptor', 'index-descriptor']);

export function parseAnnotations(values: string[]): Array<{ key: string; value: string; platform?: string }> {
  const out: Array<{ key: string; value: string; platform?: string }> = [];
  for (const v of values) {
    if (v === '') continue;
    const eq = v.indexOf('=');
    if (eq < 0) throw new UsageError(`--annotation: invalid annotation ${JSON.stringify(v)}, expected key=value`);
    const k = v.slice(0, eq);
    const value = v.slice(eq + 1);
    const colon = k.indexOf(':');
    if (colon < 0) {
      out.push({ key: k, value });
      continue;
    }
    const key = k.slice(colon + 1);
    for (const tp of k.slice(0, colon).split(',')) {
      const m = TYPE.exec(tp);
      if (!m) throw new UsageError(`--annotation: invalid annotation type ${JSON.stringify(tp)}, expected type and optional platform in square brackets`);
      const [, type, platform] = m;
      if (!KNOWN.has(type!)) throw new UsageError(`--annotation: unknown annotation type ${JSON.stringify(type)}`);
      if (type !== 'manifest') throw new FailedPreconditionError(`--annotation ${type}:… is not supported yet (tsbuild writes no index)`, { code: 'BUILD_FLAG_NOT_SUPPORTED_YET' });
      if (platform !== undefined) {
        try {
          parsePlatform(platform);
        } catch {
          throw new UsageError(`--annotation: invalid platform ${JSON.stringify(platform)} in ${JSON.stringify(v)}`);
        }
      }
      out.push({ key, value, ...(platform !== undefined ? { platform } : {}) });
    }
  }
  return out;
}
