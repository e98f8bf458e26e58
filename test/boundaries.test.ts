/**
 * The package borders of ../shared/DESIGN.md, enforced: a package imports
 * another only through its name (its src/index.ts), only the packages its
 * scope allows, never a relative path into another package, and only one
 * adapter module imports dockerfile-ast.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** scope → the workspace packages it may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  store: ['core'],
  runtime: ['core'],
  'registry-client': ['core'],
  builder: ['core', 'store', 'runtime', 'registry-client'],
  server: ['core', 'builder', 'store', 'runtime', 'registry-client'],
  cli: ['core', 'store', 'runtime', 'registry-client', 'builder', 'server'],
};
const PACKAGE_OF: Record<string, string> = {
  '@tsbuild/core': 'core',
  '@tsbuild/store': 'store',
  '@tsbuild/runtime': 'runtime',
  '@tsbuild/registry-client': 'registry-client',
  '@tsbuild/builder': 'builder',
  '@tsbuild/server': 'server',
  tsbuild: 'cli',
};

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* tsFiles(p);
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

  // Shared pieces the store or the runtime needs live in core, once: a second definition is a twin to merge.
  it('Mount, the root-confined resolver and the lock files are defined once, in core', () => {
    const names = ['Mount', 'resolveInRoot', 'resolveInRootSync', 'withLock', 'acquireLock', 'tryLock', 'pidAlive'];
    const where = new Map<string, string[]>(names.map((n) => [n, []]));
    for (const scope of Object.keys(ALLOWED)) {
      for (const file of tsFiles(join(root, scope, 'src'))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/^export\s+(?:async\s+)?(?:interface|function|class|type|const)\s+(\w+)\b/gm)) {
          where.get(m[1]!)?.push(relative(root, file));
        }
      }
    }
    for (const [name, files] of where) expect(files, name).to.have.length(1).and.satisfy((f: string[]) => f[0]!.startsWith('core/src/'));
  });

  it("the store does not read the build cache's files: it asks the GcRootProviders it is given", () => {
    const readers: string[] = [];
    for (const file of tsFiles(join(root, 'store', 'src'))) {
      if (/['"]records['"]|cache\/records/.test(readFileSync(file, 'utf8'))) readers.push(relative(root, file));
    }
    expect(readers).to.deep.equal([]);
  });
});
