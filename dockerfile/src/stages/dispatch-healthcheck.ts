/**
 * HEALTHCHECK: not expanded. NONE → `Test: ["NONE"]`; shell form →
 * `CMD-SHELL`. History is Go's `%q` of docker's HealthConfig pointer:
 * `HEALTHCHECK &{["CMD-SHELL" "x"] "30s" "3s" "0s" "0s" '\x03'}`.
 */
import type { HealthConfig } from '@tsbuild/core';
import type { HealthcheckInstruction } from '../instructions/index.js';
import { withConfig } from './build-state.js';
import type { Dispatcher } from './dispatch-context.js';
import { goDuration, goQuote, goQuoteRune } from './go-format.js';

export const dispatchHealthcheck: Dispatcher<HealthcheckInstruction> = (inst, state) => {
  let hc: HealthConfig;
  if (inst.test.type === 'NONE') hc = { Test: ['NONE'] };
  else {
    const c = inst.test.command;
    hc = { Test: c.form === 'shell' ? ['CMD-SHELL', c.command] : ['CMD', ...c.args] };
    const o = inst.options;
    if (o.interval) hc.Interval = o.interval;
    if (o.timeout) hc.Timeout = o.timeout;
    if (o.startPeriod) hc.StartPeriod = o.startPeriod;
    if (o.startInterval) hc.StartInterval = o.startInterval;
    if (o.retries) hc.Retries = o.retries;
  }
  const d = (n?: number) => goQuote(goDuration(n ?? 0));
  const text = `&{[${hc.Test!.map(goQuote).join(' ')}] ${d(hc.Interval)} ${d(hc.Timeout)} ${d(hc.StartPeriod)} ${d(hc.StartInterval)} ${goQuoteRune(hc.Retries ?? 0)}}`;
  return {
    state: withConfig(state, { Healthcheck: hc }),
    expanded: { kind: 'HEALTHCHECK', value: JSON.stringify(hc.Test) },
    createdBy: `HEALTHCHECK ${text}`,
    makesLayer: false,
  };
};
