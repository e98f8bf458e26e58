/**
 * ONBUILD <instruction>: stored as text for images built FROM this one
 * (BuildKit `parseOnBuild`); ONBUILD, FROM and MAINTAINER triggers are rejected.
 */
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';
import type { Instruction, OnbuildInstruction } from './types.js';

export function parseOnbuild(ctx: ParseContext): OnbuildInstruction {
  const flags = ctx.noFlags();
  const triggerNode = ctx.node.next?.children[0];
  if (!triggerNode) ctx.fail(InstructionErrorCode.ArgumentCount, 'ONBUILD requires at least one argument');
  const located = ctx.located?.trigger;
  const range = located?.keywordRange ?? ctx.range;
  const kw = triggerNode.value.toUpperCase();
  if (kw === 'ONBUILD') ctx.fail(InstructionErrorCode.OnbuildTrigger, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", range);
  if (kw === 'FROM' || kw === 'MAINTAINER') {
    ctx.fail(InstructionErrorCode.OnbuildTrigger, `${kw} isn't allowed as an ONBUILD trigger`, range);
  }
  const out: OnbuildInstruction = {
    ...ctx.base('ONBUILD', flags),
    expression: ctx.node.original.replace(/^\s*ONBUILD\s*/i, ''),
  };
  let trigger: Instruction | undefined;
  try {
    trigger = ctx.parseTrigger({ ...triggerNode, startLine: ctx.node.startLine, endLine: ctx.node.endLine, heredocs: ctx.node.heredocs }, located);
  } catch {
    trigger = undefined;
  }
  if (trigger) out.trigger = trigger;
  return out;
}
