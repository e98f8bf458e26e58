// One import point for the solver tests: the builder's public API plus the core helpers they use.
export * from '@tsbuild/builder';
export { digestOf, CanceledError, isCanceled, TsbuildError } from '@tsbuild/core';
