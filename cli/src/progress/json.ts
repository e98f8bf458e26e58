/**
 * The `json` progress UI: one BuildEvent per line, as is (log data is already
 * text), so tools can consume a build with `jq` or a line reader.
 */
import type { BuildEvent } from '@tsbuild/builder';

export function renderJsonEvent(event: BuildEvent): string {
  return JSON.stringify(event) + '\n';
}
