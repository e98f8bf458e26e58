/**
 * The package borders of ../shared/DESIGN.md, enforced: a package imports
 * another only through its name (its src/index.ts), only the packages its
 * scope allows, never a relative path into another package, and only one
 * adapter module imports dockerfile-ast.
 */
import { expect } from 'chai';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** scope → the workspace packages it may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  store: ['core'],
  runtime: ['core'],
  'registry-client': ['core'],
  dockerfile: ['core'],
  builder: ['core', 'dockerfile', 'store', 'runtime', 'registry-client'],
  server: ['core', 'dockerfile', 'builder', 'store', 'runtime', 'registry-client'],
  cli: ['core', 'dockerfile', 'store', 'runtime', 'registry-client', 'builder', 'server'],
};
const PACKAGE_OF: Record<string, string> = {
  '@tsbuild/core': 'core',
  '@tsbuild/store': 'store',
  '@tsbuild/runtime': 'runtime',
  '@tsbuild/registry-client': 'registry-client',
  '@tsbuild/dockerfile': 'dockerfile',
  '@tsbuild/builder': 'builder',
  '@tsbuild/server': 'server',
  tsbuild: 'cli',
};

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p); // lstat: test fixtures hold dangling symlinks on purpose
    if (st.isDirectory()) yield* tsFiles(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push((m[1] ?? m[2])!);
  }
  return out;
}

describe('package borders', () => {
  for (const [scope, allowed] of Object.entries(ALLOWED)) {
    it(`${scope} imports only ${allowed.length ? allowed.join(', ') : 'nothing of ours'}, through their index`, () => {
      const problems: string[] = [];
      const pkgDir = join(root, scope, 'src');
      for (const file of tsFiles(pkgDir)) {
        for (const spec of importsOf(file)) {
          const where = relative(root, file);
          if (spec.startsWith('.')) {
            const target = resolve(dirname(file), spec);
            if (!target.startsWith(pkgDir)) problems.push(`${where}: relative import leaves the package: ${spec}`);
            continue;
          }
          const base = Object.keys(PACKAGE_OF).find((p) => spec === p || spec.startsWith(`${p}/`));
          if (!base) continue; // a third-party module
          if (spec !== base) problems.push(`${where}: deep import ${spec} (use ${base})`);
          const target = PACKAGE_OF[base]!;
          if (target !== scope && !allowed.includes(target)) problems.push(`${where}: ${scope} may not import ${base}`);
        }
      }
      expect(problems).to.deep.equal([]);
    });
  }

  it('no test, bench or script reaches into another package\'s src/ (only its own package\'s)', () => {
    const problems: string[] = [];
    const dirs = [...Object.keys(ALLOWED).map((scope) => join(root, scope, 'test')), join(root, 'test'), join(root, 'bench'), join(root, 'scripts')];
    for (const dir of dirs) {
      if (!existsSync(dir)) continue; // a package without tests yet
      const files = [...tsFiles(dir)];
      const own = relative(root, dir).split('/')[0]!;
      for (const file of files) {
        for (const spec of importsOf(file)) {
          if (!spec.startsWith('.')) continue;
          const target = relative(root, resolve(dirname(file), spec)).split('/');
          if (target[1] === 'src' && target[0] !== own && target[0]! in ALLOWED) problems.push(`${relative(root, file)}: imports ${spec} (use @tsbuild/${target[0]})`);
        }
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('only the adapter module imports dockerfile-ast', () => {
    const importers: string[] = [];
    for (const scope of Object.keys(ALLOWED)) {
      for (const file of tsFiles(join(root, scope, 'src'))) {
        if (importsOf(file).includes('dockerfile-ast')) importers.push(relative(root, file));
      }
    }
    expect(importers.length).to.be.at.most(1, `importers: ${importers.join(', ')}`);
    for (const f of importers) expect(f).to.match(/dockerfile-ast-adapter\.ts$/);
  });
});
