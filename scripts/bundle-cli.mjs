#!/usr/bin/env node
// Bundles the compiled CLI (cli/dist/main.js, after `tsc -b`) with esbuild into
// cli/dist/bundle/: start-up is most of a no-op command's time, and loading a
// few large files costs far less than resolving ~400 small ones. cli/bin/tsbuild.js
// uses the bundle when it is there.
//
// - Code splitting keeps the command table's `import()`s lazy: each command is
//   its own chunk, so `tsbuild images` never loads the builder.
// - Native addons (zstd-napi, fs-xattr) stay external, loaded from node_modules.
// - The compression worker is a second entry point, emitted next to the chunks:
//   store's compress-pool starts it as `new URL('./compress-worker.js', import.meta.url)`,
//   and every output file lives in the one directory, whichever chunk holds the pool.
// - CommonJS dependencies (tar, dockerfile-ast, …) call require() for Node's
//   builtins; the banner gives each ESM chunk a real `require`.
// - Source maps (linked, with sources) keep `--debug` stack traces readable with
//   --enable-source-maps, which the bin shim turns on for the bundle.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(repo, 'cli/dist/bundle');

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: repo,
  entryPoints: {
    tsbuild: 'cli/dist/main.js',
    'compress-worker': 'store/dist/layer/compress-worker.js',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['zstd-napi', 'fs-xattr'],
  sourcemap: 'linked',
  banner: { js: "import { createRequire as __tsbuildCreateRequire } from 'node:module'; const require = __tsbuildCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
console.log(`tsbuild bundle: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${outdir.slice(repo.length + 1)}`);
