#!/usr/bin/env node
// The tsbuild binary: a thin shim over the compiled CLI. It runs the esbuild
// bundle (scripts/bundle-cli.mjs; far quicker to start) when it is newer than
// every package's last `tsc -b`, else tsc's output (npm run build / scripts/setup.sh).
import { statSync } from 'node:fs';

const args = process.argv.slice(2);
// Stack traces (--debug) point into the TypeScript sources, not the bundle.
if (args.includes('--debug') || args.includes('-D')) process.setSourceMapsEnabled(true);
const { main } = await import(bundleIsFresh() ? '../dist/bundle/tsbuild.js' : '../dist/main.js');

process.exitCode = await main(args);

function bundleIsFresh() {
  const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs;
  const bundle = mtime('../dist/bundle/tsbuild.js');
  if (bundle === undefined) return false;
  const packages = ['core', 'store', 'runtime', 'registry-client', 'builder', 'server', 'cli'];
  return packages.every((p) => (mtime(`../../${p}/dist/.tsbuildinfo`) ?? 0) <= bundle);
}
