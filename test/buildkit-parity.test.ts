/**
 * tsbuild writes the images BuildKit writes. Each Dockerfile below is built by
 * the BuildKit inside a private dockerd 20.10 (Debian's docker.io) and by
 * tsbuild, both FROM the same busybox image (made by `tsbuild import`, loaded
 * into dockerd: one image ID for both). Then the raw config blobs (from
 * `docker save` and `tsbuild save --format docker`) are compared field by
 * field — timestamps excluded — and every layer's entries: type, mode,
 * owner, size, link target and content hash (mtimes excluded).
 *
 * dockerd 20.10 carries BuildKit v0.8's Dockerfile frontend. Where tsbuild
 * writes what newer BuildKit releases write instead, the case lists the
 * difference in `newer` with the value tsbuild must write and why: those
 * fields are checked against that explicit expectation, never skipped.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { tsbuild } from '../cli/test/support.js';
import { DOCKER, startDockerd, type Dockerd } from './support/dockerd.js';
import { makeBusyboxRootfs, tempDir } from './support/fixtures.js';
import { applyLayer, configView, diffLayers, diffViews, formatFieldDiffs, listLayer, readSavedImage, type FieldDiff, type LayerEntry, type SavedImage } from './support/parity.js';

const execFileP = promisify(execFile);

interface ParityCase {
  title: string;
  /** A name for the image in both builders (children may build FROM it). */
  tag: string;
  dockerfile: string;
  /** Context files: path → content, or { content, mode }, or { symlink }. */
  files?: Record<string, string | { content: string; mode: number } | { symlink: string }>;
  /** Made in the context after `files`: a tar archive of some of them (for ADD). */
  tarball?: { name: string; of: string[] };
  buildArgs?: Record<string, string>;
  target?: string;
  /**
   * Fields (as `diffViews` names them) where tsbuild deliberately writes what
   * BuildKit releases newer than dockerd 20.10's v0.8 write, or what
   * standalone BuildKit's image exporter writes where dockerd's differs: the
   * value tsbuild must have there. BuildKit in dockerd must differ from it
   * (else the entry is stale).
   */
  newer?: Record<string, unknown>;
}

/**
 * BuildKit ≥ 0.12 prints HealthConfig with its StartInterval field (the
 * Docker API 1.44 one, set by --start-interval): one more "0s" than v0.8.
 */
const healthcheckHistory = (test: string[], interval: string, timeout: string, start: string, retries: string): unknown => ({
  created_by: `HEALTHCHECK &{[${test.map((t) => JSON.stringify(t)).join(' ')}] "${interval}" "${timeout}" "${start}" "0s" '${retries}'}`,
  empty_layer: true,
  comment: 'buildkit.dockerfile.v0',
});

/**
 * Newer BuildKit records an ARG with the value it resolved to (--build-arg,
 * its expanded default, or the global ARG's); v0.8 copies the Dockerfile text.
 */
const argHistory = (text: string): unknown => ({ created_by: text, empty_layer: true, comment: 'buildkit.dockerfile.v0' });

/** BuildKit ≥ 0.13 records COPY/ADD's --parents/--chown/--chmod in the history; v0.8 leaves them out. */
const copyHistory = (text: string): unknown => ({ created_by: `${text} # buildkit`, empty_layer: false, comment: 'buildkit.dockerfile.v0' });

const CASES: ParityCase[] = [
  {
    title: 'ENV in both forms, with expansion, ARG defaults, --build-arg and a global ARG; MAINTAINER',
    tag: 'parity-env',
    dockerfile: `ARG GLOBAL=g1
FROM busybox:latest
MAINTAINER Jane Doe <jane@example.com>
ARG V=1.0
ARG FROMCLI
ARG UNSET
ENV A=x B="y z" \\
    C=\${V}-$A
ENV D $B and \${GLOBAL:-not-in-scope}
ARG GLOBAL
ENV E=\${GLOBAL} F=\${FROMCLI:-none} G=\${V:+set} H=\${UNSET:-dflt} I='$A literal'
ENV PATH=/opt/bin:$PATH
RUN echo "$A $C $D $FROMCLI $GLOBAL" > /env.txt
`,
    buildArgs: { V: '2.0', FROMCLI: 'cli' },
    newer: {
      'history[2]': argHistory('ARG V=2.0'),
      'history[3]': argHistory('ARG FROMCLI=cli'),
      'history[7]': argHistory('ARG GLOBAL=g1'),
    },
  },
  {
    title: 'LABELs, several per line and inherited from a parent stage used as base',
    tag: 'parity-labels',
    dockerfile: `FROM busybox:latest AS parent
LABEL org.a=1 "with space"="v w" multi="line \\
 continued"
LABEL org.b=2
FROM parent AS child
ARG C=three
LABEL org.b=override org.c=$C
FROM child
LABEL final=yes org.a=
`,
  },
  {
    title: 'EXPOSE ports, ranges and /udp; VOLUME JSON and plain; USER; WORKDIR relative and nested',
    tag: 'parity-meta',
    dockerfile: `FROM busybox:latest
EXPOSE 80 443/tcp 53/udp
EXPOSE 8000-8002 9000-9001/udp
VOLUME ["/data", "/logs"]
VOLUME /cache /srv/x
USER nobody
WORKDIR app
WORKDIR sub/dir
WORKDIR ../other
USER 1000:1000
WORKDIR /abs
RUN id -u > /tmp/uid && pwd > /tmp/pwd
`,
  },
  {
    title: 'ENTRYPOINT and CMD: a stage with both used as base keeps them',
    tag: 'parity-cmd-keep',
    dockerfile: CMD_DOCKERFILE(),
    target: 'keeps',
  },
  {
    title: 'ENTRYPOINT and CMD: an ENTRYPOINT resets the inherited CMD (shell form)',
    tag: 'parity-cmd-reset',
    dockerfile: CMD_DOCKERFILE(),
    target: 'resets',
  },
  {
    title: 'ENTRYPOINT and CMD: shell-form CMD after an inherited ENTRYPOINT, exec-form ENTRYPOINT then CMD',
    tag: 'parity-cmd-final',
    dockerfile: CMD_DOCKERFILE(),
  },
  {
    title: 'SHELL, STOPSIGNAL, HEALTHCHECK CMD with options, then HEALTHCHECK NONE in a child stage',
    tag: 'parity-health',
    dockerfile: `FROM busybox:latest AS h
SHELL ["/bin/sh", "-ec"]
RUN echo "$0" > /shell.txt
CMD echo via shell
ENTRYPOINT exec /bin/sh -c
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=3 CMD wget -q -O- http://localhost/ || exit 1
FROM h
HEALTHCHECK NONE
STOPSIGNAL 9
`,
    newer: {
      'history[6]': healthcheckHistory(['CMD-SHELL', 'wget -q -O- http://localhost/ || exit 1'], '30s', '10s', '5s', '\\x03'),
      'history[7]': healthcheckHistory(['NONE'], '0s', '0s', '0s', '\\x00'),
    },
  },
  {
    title: 'ONBUILD triggers are recorded in the config',
    tag: 'parity-onbuild-parent',
    dockerfile: `FROM busybox:latest
ONBUILD ARG T=trig
ONBUILD RUN echo "triggered $T" > /onbuild.txt
ONBUILD ENV FROM_TRIGGER=1
ONBUILD COPY trig.txt /trig/
ONBUILD LABEL from.trigger=yes
LABEL parent=yes
`,
    files: { 'trig.txt': 'from the parent context\n' },
  },
  {
    title: 'a child built FROM an image with ONBUILD runs the triggers (and does not inherit them)',
    tag: 'parity-onbuild-child',
    dockerfile: `FROM parity-onbuild-parent
RUN cat /onbuild.txt /trig/trig.txt > /both.txt
`,
    files: { 'trig.txt': 'from the child context\n' },
  },
  {
    title: 'RUN in shell and exec form, with ARG and ENV in the environment',
    tag: 'parity-run',
    dockerfile: `FROM busybox:latest
RUN echo shell > /a
RUN ["/bin/sh", "-c", "echo exec > /b"]
RUN ["touch", "/c"]
ARG X=1
ARG Y
RUN echo "$X" > /d && mkdir -p /deep/er && echo x > /deep/er/f && chmod 0700 /deep
ENV Z=2
RUN ["sh", "-c", "echo $Z $X > /e"]
RUN ln -s /a /link && ln /a /hard && chown 1000:2000 /c && rm /b
`,
    buildArgs: { Y: 'why' },
    newer: {
      'history[5]': argHistory('ARG Y=why'),
    },
  },
  {
    title: 'COPY and ADD of files, directories, globs and a tar, with --chown and --chmod',
    tag: 'parity-copy',
    dockerfile: `FROM busybox:latest
COPY a.txt /dst/
COPY --chown=1000:2000 script.sh /dst/run.sh
COPY --chmod=0600 a.txt /dst/private.txt
COPY --chown=tester:extra dir /tree/
COPY dir/sub /sub2
COPY *.log /logs/
COPY g?.log dir/sub/x.txt /globbed/
ADD --chown=1:1 a.txt script.sh /added/
ADD arch.tar /unpacked/
WORKDIR /w
COPY a.txt rel.txt
COPY dir ./
`,
    files: {
      'a.txt': 'alpha\n',
      'script.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      'dir/top.txt': 'top\n',
      'dir/sub/x.txt': { content: 'x\n', mode: 0o640 },
      'dir/sub/y.md': 'y\n',
      'g1.log': 'one\n',
      'g2.log': 'two\n',
      'dir/sub/lnk': { symlink: 'x.txt' },
      'packed/p.txt': { content: 'packed\n', mode: 0o600 },
      'packed/q/r.txt': 'r\n',
    },
    tarball: { name: 'arch.tar', of: ['packed'] },
    newer: {
      'history[2]': copyHistory('COPY --chown=1000:2000 script.sh /dst/run.sh'),
      'history[3]': copyHistory('COPY --chmod=0600 a.txt /dst/private.txt'),
      'history[4]': copyHistory('COPY --chown=tester:extra dir /tree/'),
      'history[8]': copyHistory('ADD --chown=1:1 a.txt script.sh /added/'),
    },
  },
  {
    title: 'COPY --from a stage (by name and by index), with --chown',
    tag: 'parity-copy-from',
    dockerfile: `FROM busybox:latest AS build
RUN mkdir -p /out/bin && echo built > /out/bin/tool && chmod 0750 /out/bin/tool && ln -s tool /out/bin/alias
FROM busybox:latest
COPY --from=build /out /opt/
COPY --from=build --chown=5:6 /out/bin/tool /usr/local/bin/
COPY --from=0 /out/bin/tool /tool0
`,
    newer: {
      'history[2]': copyHistory('COPY --chown=5:6 /out/bin/tool /usr/local/bin/'),
    },
  },
  {
    title: 'escapes and expansion in ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL; FROM ${ARG}; exec-form HEALTHCHECK',
    tag: 'parity-expand',
    dockerfile: `ARG BASE=busybox
ARG TAG=latest
FROM \${BASE}:\${TAG}
ARG PORT=8080
ARG WHO=tester
ENV DOLLAR=\\$HOME Q="a \\"quoted\\" word" SINGLE='$PORT stays' MIXED=pre"$PORT"post
LABEL "dq"="x \\"y\\"" port=$PORT sq='$PORT' empty=""
EXPOSE $PORT \${PORT}/udp
VOLUME ["/vol/$PORT"]
VOLUME /plain/\${PORT}
USER $WHO:extra
WORKDIR /home/$WHO
WORKDIR \${DOLLAR}x
STOPSIGNAL SIG\${SIG:-USR1}
HEALTHCHECK --retries=2 CMD ["/bin/sh", "-c", "exit 0"]
CMD ["echo", "unicode é", "tab\\there", "quote\\"d"]
`,
    newer: {
      'history[12]': healthcheckHistory(['CMD', '/bin/sh', '-c', 'exit 0'], '0s', '0s', '0s', '\\x02'),
    },
  },
  {
    title: 'RUN steps that change nothing make no layer (empty_layer), deletions make whiteouts, chmod of a lower file',
    tag: 'parity-empty',
    dockerfile: `FROM busybox:latest
RUN true
RUN mkdir -p /gone/sub && echo x > /gone/sub/f && echo keep > /keep
RUN rm -rf /gone && chmod 0600 /etc/group && touch /keep
RUN mkdir -p /opaque/a && echo 1 > /opaque/a/one
RUN rm -rf /opaque && mkdir -p /opaque/b && echo 2 > /opaque/b/two
WORKDIR /
COPY empty.d /
`,
    files: { 'empty.d/.keep': '' },
  },
  {
    title: 'COPY of the whole context with .dockerignore, to an existing directory, --chown by name only and by uid only',
    tag: 'parity-context',
    dockerfile: `FROM busybox:latest
COPY . /ctx/
COPY --chown=tester a.txt /by-name
COPY --chown=1000 a.txt /by-uid
COPY a.txt /tmp
COPY --chmod=0755 dir /modes/
`,
    files: {
      '.dockerignore': '*.secret\nignored/\n!ignored/kept.txt\n',
      'a.txt': 'alpha\n',
      'x.secret': 'no\n',
      'ignored/gone.txt': 'no\n',
      'ignored/kept.txt': 'kept\n',
      'dir/f.txt': { content: 'f\n', mode: 0o600 },
      'dir/d/g.txt': 'g\n',
    },
    newer: {
      'history[2]': copyHistory('COPY --chown=tester a.txt /by-name'),
      'history[3]': copyHistory('COPY --chown=1000 a.txt /by-uid'),
      'history[5]': copyHistory('COPY --chmod=0755 dir /modes/'),
    },
  },
  {
    title: 'COPY --chown with a group only, and with a UID or name whose primary group differs',
    tag: 'parity-chown',
    dockerfile: `FROM busybox:latest
RUN echo 'odd:x:3000:4000::/:/bin/sh' >> /etc/passwd && echo 'oddgrp:x:4000:' >> /etc/group
COPY --chown=:extra a.txt /by-group
COPY --chown=:2000 a.txt /by-gid
COPY --chown=3000 a.txt /by-uid-with-other-primary-gid
COPY --chown=odd a.txt /by-name-with-other-primary-gid
`,
    files: { 'a.txt': 'alpha\n' },
    newer: {
      'history[2]': copyHistory('COPY --chown=:extra a.txt /by-group'),
      'history[3]': copyHistory('COPY --chown=:2000 a.txt /by-gid'),
      'history[4]': copyHistory('COPY --chown=3000 a.txt /by-uid-with-other-primary-gid'),
      'history[5]': copyHistory('COPY --chown=odd a.txt /by-name-with-other-primary-gid'),
    },
  },
  {
    title: 'edges: ENV referring to itself on one line, empty CMD/ENTRYPOINT, duplicate EXPOSE/VOLUME, WORKDIR under a numeric USER, COPY into an existing directory',
    tag: 'parity-edges',
    dockerfile: `FROM busybox:latest
ENV A=old
ENV A=new B=$A C=\${A}-c
EXPOSE 80 80/tcp 81
EXPOSE 81
VOLUME /v /v
CMD []
ENTRYPOINT []
USER 3000
WORKDIR /made-by-3000/sub
USER root
COPY a.txt /tmp
COPY --chmod=0700 dir /made-by-3000
`,
    files: { 'a.txt': 'alpha\n', 'dir/f': 'f\n', 'dir/d/g': 'g\n' },
    newer: {
      'history[12]': copyHistory('COPY --chmod=0700 dir /made-by-3000'),
    },
  },
];

function CMD_DOCKERFILE(): string {
  return `FROM busybox:latest AS base
ENTRYPOINT ["/bin/echo", "base"]
CMD ["default"]
FROM base AS keeps
LABEL x=y
FROM base AS resets
ENTRYPOINT /bin/echo reset
FROM resets AS shellcmd
CMD echo shell form
FROM shellcmd
ENTRYPOINT ["/bin/echo"]
CMD ["a", "b"]
`;
}

describe('BuildKit parity: tsbuild writes the image configs and layers BuildKit writes', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let dockerd: Dockerd;
  let root: string;

  before(async () => {
    tmp = tempDir('tsbuild-parity-');
    root = join(tmp.path, 'store');
    dockerd = await startDockerd(join(tmp.path, 'docker'));
    const imported = await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox:latest');
    expect(imported.code, imported.stderr).to.equal(0);
    const archive = join(tmp.path, 'busybox.tar');
    const saved = await tsbuild(root, 'save', '--format', 'docker', '-o', archive, 'busybox:latest');
    expect(saved.code, saved.stderr).to.equal(0);
    await dockerd.docker(['load', '-i', archive]);
    const ours = JSON.parse((await tsbuild(root, 'inspect', 'busybox:latest')).stdout)[0].Id as string;
    const theirs = (await dockerd.docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox:latest'])).stdout.trim();
    expect(theirs, 'both builders start FROM the same image').to.equal(ours);
  });
  after(async () => {
    await dockerd?.stop();
    tmp?.cleanup();
  });

  for (const c of CASES) {
    it(c.title, async () => {
      const ctx = join(tmp.path, 'ctx', c.tag);
      writeContext(ctx, c);
      if (c.tarball) await execFileP('tar', ['-cf', join(ctx, c.tarball.name), '-C', ctx, ...c.tarball.of]);
      const args = [...Object.entries(c.buildArgs ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]), ...(c.target ? ['--target', c.target] : [])];

      try {
        await execFileP(DOCKER, ['-H', dockerd.host, 'build', '--network=host', '--progress=plain', '-t', c.tag, ...args, ctx], {
          env: { ...process.env, DOCKER_BUILDKIT: '1' }, maxBuffer: 64 << 20,
        });
      } catch (err) {
        throw new Error(`BuildKit failed to build ${c.tag}: ${(err as { stderr?: string }).stderr?.slice(-3000)}`);
      }
      const bkArchive = join(tmp.path, `${c.tag}.buildkit.tar`);
      await dockerd.docker(['save', '-o', bkArchive, c.tag]);

      const built = await tsbuild(root, 'build', '--progress', 'plain', '--network', 'host', '-t', c.tag, ...args, ctx);
      expect(built.code, `tsbuild failed to build ${c.tag}:\n${built.stderr.slice(-3000)}`).to.equal(0);
      const tsArchive = join(tmp.path, `${c.tag}.tsbuild.tar`);
      const saved = await tsbuild(root, 'save', '--format', 'docker', '-o', tsArchive, c.tag);
      expect(saved.code, saved.stderr).to.equal(0);
      // tsbuild inspect's Config is the raw config: the same as the saved blob.
      const inspected = JSON.parse((await tsbuild(root, 'inspect', c.tag)).stdout)[0].Config;

      const bk = await readSavedImage(bkArchive, join(tmp.path, 'x', c.tag, 'buildkit'));
      const ts = await readSavedImage(tsArchive, join(tmp.path, 'x', c.tag, 'tsbuild'));
      expect(ts.config, 'tsbuild inspect Config = the saved config blob').to.deep.equal(inspected);

      const problems: string[] = [];

      // Layers pair up through the history entries that made them. One exporter difference:
      // BuildKit's own image exporter drops a layer that changes nothing and marks its entry
      // empty_layer, as tsbuild does; dockerd 20.10's exporter (moby's builder-next) keeps it.
      // Such an entry is accepted only where dockerd's layer is empty in effect.
      const theirLayers = layersByHistory(bk);
      const ourLayers = layersByHistory(ts);
      const droppedEmpty = new Set<number>();
      let lower = new Map<string, LayerEntry>();
      for (const i of [...new Set([...theirLayers.keys(), ...ourLayers.keys()])].sort((a, b) => a - b)) {
        const theirs = theirLayers.has(i) ? listLayer(theirLayers.get(i)!) : new Map<string, LayerEntry>();
        const ours = ourLayers.has(i) ? listLayer(ourLayers.get(i)!) : new Map<string, LayerEntry>();
        const what = `layer of history[${i}] (${bk.config.history?.[i]?.created_by ?? '?'})`;
        const lines = diffLayers(theirs, ours, lower);
        if (!ourLayers.has(i) && lines.length === 0) droppedEmpty.add(i);
        else if (!ourLayers.has(i)) problems.push(`${what}: tsbuild made no layer, BuildKit's is not empty:\n${lines.join('\n')}`);
        else if (!theirLayers.has(i)) problems.push(`${what}: BuildKit made no layer, tsbuild's:\n${lines.join('\n')}`);
        else if (lines.length) problems.push(`${what} differs:\n${lines.join('\n')}`);
        lower = applyLayer(lower, theirs);
      }

      const diffs = diffViews(configView(bk.config), configView(ts.config));
      const unexpected: FieldDiff[] = [];
      for (const d of diffs) {
        const h = /^history\[(\d+)\]$/.exec(d.field);
        if (d.field === 'config.OnBuild' && d.buildkit === null) {
          // v0.8 marshals docker's ContainerConfig, whose OnBuild has no omitempty: `"OnBuild": null`.
          // Newer BuildKit (the OCI config with Docker extensions) omits it, as tsbuild must.
          if (d.tsbuild !== undefined) unexpected.push({ field: `${d.field} (expected absent, as newer BuildKit writes it)`, buildkit: d.buildkit, tsbuild: d.tsbuild });
        } else if (h && droppedEmpty.has(Number(h[1])) && JSON.stringify(d.tsbuild) === JSON.stringify({ ...(d.buildkit as object), empty_layer: true })) {
          // the empty layer dropped above: the entry is the same but for empty_layer
        } else if (d.field === 'rootfs.diff_ids.length' && (d.buildkit as number) - droppedEmpty.size === d.tsbuild) {
          // one diff_id fewer per empty layer dropped
        } else if (c.newer && d.field in c.newer) {
          if (JSON.stringify(d.tsbuild) !== JSON.stringify(c.newer[d.field])) {
            unexpected.push({ field: `${d.field} (expected newer-BuildKit value ${JSON.stringify(c.newer[d.field])})`, buildkit: d.buildkit, tsbuild: d.tsbuild });
          }
        } else {
          unexpected.push(d);
        }
      }
      for (const field of Object.keys(c.newer ?? {})) {
        if (!diffs.some((d) => d.field === field)) problems.push(`  ${field}: listed in \`newer\` but BuildKit in dockerd wrote the same: the entry is stale`);
      }
      if (unexpected.length) problems.unshift(`config differs:\n${formatFieldDiffs(unexpected)}`);
      expect(problems, `${c.tag}: tsbuild differs from BuildKit\n${problems.join('\n')}\n`).to.deep.equal([]);
    });
  }
});

/** History index → the layer tar that entry made (entries with empty_layer make none). */
function layersByHistory(image: SavedImage): Map<number, string> {
  const out = new Map<number, string>();
  let next = 0;
  (image.config.history ?? []).forEach((h, i) => {
    if (!h.empty_layer && next < image.layers.length) out.set(i, image.layers[next++]!);
  });
  return out;
}

function writeContext(ctx: string, c: ParityCase): void {
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), c.dockerfile);
  for (const [path, spec] of Object.entries(c.files ?? {})) {
    const file = join(ctx, path);
    mkdirSync(dirname(file), { recursive: true });
    if (typeof spec === 'string') {
      writeFileSync(file, spec);
      chmodSync(file, 0o644);
    } else if ('symlink' in spec) {
      symlinkSync(spec.symlink, file);
    } else {
      writeFileSync(file, spec.content);
      chmodSync(file, spec.mode);
    }
  }
}
