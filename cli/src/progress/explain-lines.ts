import type { BuildEvent } from '@tsbuild/builder';

/**
 * The explanation lines worth showing a person: a first build of a step has
 * nothing to explain, so "no previous build" is left to the json stream.
 */
export function explainLines(e: Extract<BuildEvent, { type: 'vertex.explain' }>): string[] {
  return e.reasons.length > 0 && e.reasons.every((r) => r.kind === 'no-previous-build') ? [] : [...e.text];
}
