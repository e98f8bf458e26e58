// The builder's public API. Each area appends its exports below.
export {};
export * from './solver/index.js';
