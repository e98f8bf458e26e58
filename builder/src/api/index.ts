export type * from './events.js';
export type * from './types.js';
export { build, openSolver } from './build.js';
export { defineBuild } from './define.js';
export { explainText } from './explain-text.js';
