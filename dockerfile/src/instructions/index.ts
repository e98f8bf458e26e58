/** The typed instruction model: parse tree → instructions with ranges, grouped by stage. */
export { parseInstructions } from './parse-instructions.js';
export type { ParsedInstructions, ParseInstructionsOptions, Stage } from './parse-instructions.js';
export { InstructionError, InstructionErrorCode } from './errors.js';
export { parseMountSpec, ramInBytes } from './mount.js';
export { parseGoDuration } from './durations.js';
export type * from './types.js';
