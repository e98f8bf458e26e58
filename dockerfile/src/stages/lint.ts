/** Build-check warnings of the stage graph, shaped like the parser's (`{ rule, message, range, url }`). */
import type { SourceRange } from '@tsbuild/core';
import type { Warning } from '../parser/index.js';

export const ruleUrl = (rule: string): string =>
  `https://docs.docker.com/go/dockerfile/rule/${rule.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}/`;

export function lintWarning(rule: string, message: string, range: SourceRange): Warning {
  return { rule, message, range, url: ruleUrl(rule) };
}
