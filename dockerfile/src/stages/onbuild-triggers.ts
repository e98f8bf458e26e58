/**
 * ONBUILD triggers of a base image (or base stage): each stored trigger text
 * is parsed as an instruction and runs first in the child stage, as docker
 * does. Errors point at the child's FROM, where the triggers come from.
 */
import { DockerfileError, TsbuildError } from '@tsbuild/core';
import { parseInstructions, type FromInstruction, type Instruction } from '../instructions/index.js';

export function parseTriggers(triggers: readonly string[], from: FromInstruction, file: string, escapeToken: string): Instruction[] {
  return triggers.map((text) => {
    let parsed;
    try {
      const head = escapeToken === '\\' ? '' : `# escape=${escapeToken}\n`;
      parsed = parseInstructions(`${head}FROM scratch\n${text}\n`, { file });
    } catch (err) {
      if (!(err instanceof TsbuildError)) throw err;
      throw new DockerfileError(`invalid ONBUILD trigger ${JSON.stringify(text)}: ${err.message}`, file, from.range, { code: 'DOCKERFILE_ONBUILD_TRIGGER', cause: err });
    }
    const inst = parsed.stages[0]?.instructions[0];
    if (!inst || parsed.stages.length !== 1 || parsed.stages[0]!.instructions.length !== 1 || inst.kind === 'ONBUILD') {
      throw new DockerfileError(`invalid ONBUILD trigger ${JSON.stringify(text)}`, file, from.range, { code: 'DOCKERFILE_ONBUILD_TRIGGER' });
    }
    // The trigger runs in place of the FROM line: errors and history point there.
    return { ...inst, range: from.range, keywordRange: from.keywordRange } as Instruction;
  });
}
