// The programmatic API of tsbuild (`import { … } from 'tsbuild'`).
export { main } from './main.js';
