/**
 * Differential tests against BuildKit (issue 5). Each case of
 * test/differential/cases/ was built by the BuildKit inside dockerd 20.10
 * (Debian's docker.io, BuildKit v0.8's Dockerfile frontend) by
 * scripts/record-buildkit-fixtures.ts, which recorded the result in the
 * case's buildkit.json (test/differential/support.ts: the comparable config,
 * the history, each layer's file tree — no timestamps). This test needs no
 * dockerd: it builds the same case with tsbuild, FROM the same busybox image
 * (same image ID), derives the same view from `tsbuild save --format docker`
 * and compares it field by field and path by path.
 *
 * The only tolerated differences are documented here:
 * - per field or layer entry, in a case's `differences`: where tsbuild writes
 *   what BuildKit releases newer than v0.8 write; the reason must be one of REASONS, the
 *   value tsbuild writes must be exactly the listed one, and the fixture must
 *   still differ from it (a listed difference that disappeared fails, so the
 *   list stays true);
 * - globally, in `compareCase` below: `"OnBuild": null` and the two layer
 *   rules of test/support/parity.ts `diffLayers` (directory entries repeating
 *   the layer below, whiteout modes). Layers pair up one to one: a step that
 *   changes nothing has its (empty) layer in both images.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsbuild } from '../cli/test/support.js';
import { tempDir } from './support/fixtures.js';
import { applyLayer, diffLayers, diffViews, formatFieldDiffs, listLayer, readSavedImage, type FieldDiff, type LayerEntry, type SavedImage } from './support/parity.js';
import { caseNames, entryMap, fixtureOf, fixturePath, makeBase, prepareContext, readCase, viewOf, type Fixture } from './differential/support.js';

/** Why tsbuild may write something else than dockerd 20.10's BuildKit in a field a case lists. */
const REASONS: Record<string, string> = {
  // BuildKit ≥ 0.10 records an ARG with the value it resolved to (--build-arg, its expanded
  // default, or the global ARG's): `ARG V=2.0`; v0.8 copies the Dockerfile text (`ARG V=1.0`, `ARG FROMCLI`).
  'arg-value-in-history': 'newer BuildKit records the resolved ARG value',
  // BuildKit ≥ 0.12 prints HealthConfig with its StartInterval field (Docker API 1.44's
  // --start-interval) in the history: one more "0s" than v0.8 prints.
  'healthcheck-start-interval': 'newer BuildKit prints HEALTHCHECK with StartInterval',
  // BuildKit ≥ 0.13 records COPY/ADD's --chown/--chmod (and --parents, --exclude, --link) in the
  // history; v0.8 leaves the flags out (`COPY a.txt /x # buildkit`).
  'copy-flags-in-history': 'newer BuildKit records COPY/ADD flags in the history',
  // Layer entries (`layer[<history index>]:<path>`, tsbuild's entry or null for none).
  // runc creates the mount points of a RUN's --mount targets (and their missing parents) in the
  // rootfs; newer BuildKit removes those stubs (and the parents it had to create) after the step
  // when still empty (executor/stubs.go, MountStubsCleaner), and tsbuild never leaves them in the
  // layer; v0.8 leaves them there as empty 0755 directories.
  'mount-stubs-removed': 'newer BuildKit removes the mount-point stubs runc made for RUN --mount',
  // A RUN under `USER <name>` gets the user's supplementary groups from the image's /etc/group:
  // newer BuildKit's oci.GetUser returns execUser.Sgids and WithUIDGID sets them as AdditionalGids;
  // v0.8's GetUser returned uid and gid only, so `id` printed the primary group alone.
  'supplementary-gids': 'newer BuildKit runs RUN with the user\'s supplementary groups',
  // COPY/ADD --chmod with setuid, setgid or sticky bits: newer fsutil (copyFileInfo) sets the
  // mode --chmod gives, special bits included; v0.8 replaced only the 0777 permission bits, so it
  // dropped --chmod's special bits and kept the source's.
  'chmod-special-bits': 'newer BuildKit applies --chmod\'s setuid/setgid/sticky bits',
  // Directories a COPY --chmod=<octal> creates (missing parents of the destination, a new
  // destination of a directory source): newer fsutil makes them with that mode
  // (vendor/github.com/tonistiigi/fsutil/copy/copy.go Copy and prepareTargetDir: MkdirAll with
  // `*ci.Mode`, fsutil #228 for moby/buildkit#4945); v0.8's MkdirAll made them 0755.
  'chmod-created-dirs': 'newer BuildKit creates the directories of a COPY --chmod=<octal> with that mode',
  // A FIFO COPY'd from the context or a stage: newer fsutil recreates it with mknod, mode and
  // owner as for a file (vendor/github.com/tonistiigi/fsutil/copy/copy.go copy's ModeNamedPipe
  // case -> copy_nowindows.go copyDevice); v0.8's copy.go handled devices only ("TODO: Support
  // pipes and sockets"), so its layers have no entry for them.
  'fifo-copied': 'newer BuildKit copies FIFOs (mknod), v0.8 dropped them',
  // A stage built on another stage: BuildKit ≥ 0.15 starts its ARGs with the base stage's
  // (dockerfile2llb/convert.go `dispatchState.init`: `ds.buildArgs = append(ds.buildArgs,
  // ds.base.buildArgs...)`, commit c7c2f0e97), so RUN's history lists them (`runCommandString`,
  // each with the value the stage's environment has); v0.8 listed only the stage's own. What
  // the RUN sees is the same in both: the child starts from the base's llb.State.
  'base-stage-args-in-history': 'newer BuildKit lists a base stage\'s ARGs in RUN history',
};

describe('differential: tsbuild builds what BuildKit built (recorded fixtures)', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let baseLayers: Map<string, LayerEntry>;
  let baseId: string;
  const built = new Map<string, Promise<void>>();

  before(async () => {
    tmp = tempDir('tsbuild-differential-');
    root = join(tmp.path, 'store');
    const { image, base } = await makeBase(root, tmp.path);
    baseId = base.id;
    baseLayers = new Map();
    for (const layer of image.layers) baseLayers = applyLayer(baseLayers, listLayer(layer));
  });
  after(() => tmp?.cleanup());

  /** Builds a case with tsbuild, tagged with its name (once; cases that need it reuse the image). */
  const build = (name: string): Promise<void> => {
    let p = built.get(name);
    if (!p) {
      p = (async () => {
        for (const dep of readCase(name).needs ?? []) await build(dep);
        const ctx = join(tmp.path, 'ctx', name);
        const flags = prepareContext(name, ctx, join(tmp.path, 'secrets'));
        const r = await tsbuild(root, 'build', '--progress', 'plain', '--network', 'host', '-t', name, ...flags, ctx);
        if (r.code !== 0) throw new Error(`tsbuild failed to build ${name}:\n${r.stderr.slice(-3000)}`);
      })();
      built.set(name, p);
    }
    return p;
  };

  it('has at least 30 cases, each with a recorded fixture and documented differences only', () => {
    const names = caseNames();
    expect(names.length).to.be.at.least(30);
    for (const name of names) {
      expect(existsSync(fixturePath(name)), `${name}: no buildkit.json — run scripts/record-buildkit-fixtures.ts ${name}`).to.equal(true);
      for (const [field, d] of Object.entries(readCase(name).differences ?? {})) {
        expect(REASONS, `${name}: ${field}: reason ${d.reason} is not documented in REASONS`).to.have.property(d.reason);
      }
    }
  });

  it('reads every layer entry, also a whiteout file with a stale link name (node-tar drops those)', () => {
    const header = (name: string, flag: string, mode: number, linkname = ''): Buffer => {
      const h = Buffer.alloc(512);
      h.write(name, 0);
      h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100);
      for (const at of [108, 116]) h.write('0000000\0', at);
      h.write('00000000000\0', 124);
      h.write('00000000000\0', 136);
      h.write(flag, 156);
      h.write(linkname, 157);
      h.write('ustar\0' + '00', 257);
      h.write('        ', 148);
      h.write(`${h.reduce((a, b) => a + b, 0).toString(8).padStart(6, '0')}\0 `, 148);
      return h;
    };
    const file = join(tmp.path, 'stale-link.tar');
    writeFileSync(file, Buffer.concat([header('app/', '5', 0o755), header('app/.wh.file', '0', 0o600, 'app/a/b'), Buffer.alloc(1024)]));
    expect([...listLayer(file).values()]).to.deep.equal([
      { path: 'app', type: 'dir', mode: '0755', uid: 0, gid: 0 },
      { path: 'app/.wh.file', type: 'file', mode: '0600', uid: 0, gid: 0, size: 0, sha256: createHash('sha256').digest('hex') },
    ]);
  });

  for (const name of caseNames()) {
    it(`${name}: ${readCase(name).title}`, async () => {
      const fixture = JSON.parse(readFileSync(fixturePath(name), 'utf8')) as Fixture;
      expect(baseId, 'the busybox base differs from the one the fixtures were recorded with (another busybox-static?): re-record them').to.equal(fixture.base.id);
      await build(name);
      const archive = join(tmp.path, `${name}.tar`);
      const saved = await tsbuild(root, 'save', '--format', 'docker', '-o', archive, name);
      expect(saved.code, saved.stderr).to.equal(0);
      const image = await readSavedImage(archive, join(tmp.path, 'x', name));
      const inspected = JSON.parse((await tsbuild(root, 'inspect', name)).stdout)[0].Config;
      expect(image.config, 'tsbuild inspect Config = the saved config blob').to.deep.equal(inspected);

      const problems = compareCase(name, fixture, fixtureOf(image, fixture.base), diffIdsByHistory(image.config), baseLayers);
      if (problems.length) throw new Error(`${name}: tsbuild differs from BuildKit (fixture ${fixturePath(name)})\n${problems.join('\n')}\n`);
    });
  }
});

/** The diff_id of a tar with no entries: the layer of a step that changed nothing, in both builders. */
const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** History index → the diff_id of the layer that entry made (entries with empty_layer make none). */
function diffIdsByHistory(config: SavedImage['config']): Map<number, string> {
  const out = new Map<number, string>();
  let next = 0;
  (config.history ?? []).forEach((h, i) => {
    if (!h.empty_layer) out.set(i, config.rootfs?.diff_ids?.[next++] ?? '(none)');
  });
  return out;
}

/** Readable problems, none when tsbuild's image matches the fixture up to the documented differences. */
function compareCase(name: string, bk: Fixture, ts: Fixture, tsDiffIds: Map<number, string>, base: Map<string, LayerEntry>): string[] {
  const problems: string[] = [];
  const differences = readCase(name).differences ?? {};

  // Layers pair up through the history entries that made them. Neither exporter drops a layer
  // that changes nothing: BuildKit keeps one per RUN, COPY, ADD and WORKDIR but `WORKDIR /`
  // (dockerfile2llb commitToHistory's withLayer; exporter/containerimage/writer.go,
  // normalizeLayersAndHistory, only reconciles the history with the layers it is given), and so
  // does tsbuild: a layer one builder made and the other did not is a difference.
  const theirs = new Map(bk.layers.map((l) => [l.history, entryMap(l.entries)]));
  const ours = new Map(ts.layers.map((l) => [l.history, entryMap(l.entries)]));
  const seenLayerKeys = new Set<string>();
  let lower = base;
  for (const i of [...new Set([...theirs.keys(), ...ours.keys()])].sort((a, b) => a - b)) {
    const a = new Map(theirs.get(i) ?? []);
    const b = new Map(ours.get(i) ?? []);
    const what = `layer of history[${i}] (${bk.history[i]?.created_by ?? '?'})`;
    let listedEntry = false; // a listed difference gives tsbuild an entry BuildKit lacks here
    for (const [key, listed] of Object.entries(differences)) {
      const m = /^layer\[(\d+)\]:(.+)$/.exec(key);
      if (!m || Number(m[1]) !== i) continue;
      seenLayerKeys.add(key);
      const show = (e: LayerEntry | undefined): string => (e ? JSON.stringify({ ...e, path: undefined }) : 'null');
      const expected = JSON.stringify(listed.tsbuild);
      if (listed.tsbuild !== null && !a.has(m[2]!)) listedEntry = true;
      if (show(b.get(m[2]!)) !== expected) problems.push(`${what}: ${m[2]} (listed as ${listed.reason}): tsbuild has ${show(b.get(m[2]!))}, expected ${expected}`);
      if (show(a.get(m[2]!)) === expected) problems.push(`  ${key}: listed as a difference (${listed.reason}) but BuildKit's entry is the same: remove it from ${name}/case.json`);
      a.delete(m[2]!);
      b.delete(m[2]!);
    }
    const lines = diffLayers(a, b, lower);
    if (!ours.has(i)) problems.push(`${what}: tsbuild made no layer, BuildKit made one:\n${lines.join('\n')}`);
    else if (!theirs.has(i)) problems.push(`${what}: BuildKit made no layer, tsbuild's:\n${lines.join('\n')}`);
    else if (lines.length) problems.push(`${what} differs:\n${lines.join('\n')}`);
    else if (theirs.get(i)!.size === 0 && !listedEntry && tsDiffIds.get(i) !== EMPTY_TAR_DIFF_ID) {
      // BuildKit's layer is the empty tar (1024 zero bytes): tsbuild's must have that same diff_id, not only be empty in effect
      // (unless a listed difference puts an entry in tsbuild's).
      problems.push(`${what}: BuildKit's is the empty tar (diff_id ${EMPTY_TAR_DIFF_ID}), tsbuild's diff_id is ${tsDiffIds.get(i)}`);
    }
    lower = applyLayer(lower, theirs.get(i) ?? new Map());
  }

  const diffs = diffViews(viewOf(bk), viewOf(ts));
  const unexpected: FieldDiff[] = [];
  for (const d of diffs) {
    const listed = differences[d.field];
    if (d.field === 'config.OnBuild' && d.buildkit === null) {
      // v0.8 marshals docker's ContainerConfig, whose OnBuild has no omitempty: `"OnBuild": null`.
      // Newer BuildKit (the OCI config with Docker extensions) omits it, as tsbuild must.
      if (d.tsbuild !== undefined) unexpected.push({ field: `${d.field} (expected absent, as newer BuildKit writes it)`, buildkit: d.buildkit, tsbuild: d.tsbuild });
    } else if (listed) {
      if (JSON.stringify(d.tsbuild) !== JSON.stringify(listed.tsbuild)) {
        unexpected.push({ field: `${d.field} (listed as ${listed.reason}: expected ${JSON.stringify(listed.tsbuild)})`, buildkit: d.buildkit, tsbuild: d.tsbuild });
      }
    } else {
      unexpected.push(d);
    }
  }
  for (const [field, listed] of Object.entries(differences)) {
    if (field.startsWith('layer[')) {
      if (!seenLayerKeys.has(field)) problems.push(`  ${field}: listed as a difference (${listed.reason}) but neither builder made that layer: remove it from ${name}/case.json`);
      continue;
    }
    if (!diffs.some((d) => d.field === field)) {
      problems.push(`  ${field}: listed as a difference (${listed.reason}) but tsbuild and BuildKit agree: remove it from ${name}/case.json`);
    }
  }
  if (unexpected.length) problems.unshift(`config differs:\n${formatFieldDiffs(unexpected)}`);
  return problems;
}
