/**
 * The stage graph: what a Dockerfile means once ARG/ENV are expanded with
 * BuildKit's rules, before anything becomes a vertex. Plain data; the
 * definition builder reads `steps` in order and the image exporter reads
 * `finalConfig` and `history`.
 */
import type { ContainerConfig, HistoryEntry, ImageConfig, Platform, SourceRange } from '@tsbuild/core';
import type { Warning } from '../parser/index.js';
import type { CommandForm, Instruction, InstructionKind, MountSpec } from '../instructions/index.js';

/** Where a stage starts from. `ref` is the expanded reference as written (not normalized). */
export type StageBase =
  | { kind: 'image'; ref: string }
  | { kind: 'stage'; index: number }
  | { kind: 'scratch' };

/** Where COPY --from / RUN --mount from= reads: another stage, or an image. */
export type StepSource = { kind: 'stage'; index: number } | { kind: 'image'; ref: string };

/** The state a step runs with: a snapshot of the stage's build state before the step. */
export interface StepState {
  /**
   * The variables `K=V` an ENV set last (the base config's Env and ENV instructions), in
   * BuildKit's order (a name set again moves to the end). A name an ARG set after its ENV is
   * not here: RUN gets it from `args`.
   */
  env: string[];
  /**
   * ARGs in scope with their values (a stage built on a stage starts with its ARGs), in
   * declaration order. RUN's process environment is `env`, then each of these whose name
   * `env` lacks — BuildKit's `d.state` env, where ENV and ARG set a name, the later wins.
   */
  args: Array<[string, string]>;
  workdir: string;
  user: string;
  /** The shell for shell-form commands (`SHELL`, or the platform's default). */
  shell: string[];
}

/** The instruction's arguments after expansion, by kind (only what expansion or resolution changes). */
export type ExpandedArgs =
  /**
   * `argv`: what the container runs — shell form wrapped in the shell; a lone heredoc
   * becomes the script (or `/dev/pipes/<name>` for a `#!` script BuildKit mounts there).
   */
  | { kind: 'RUN'; command: CommandForm; argv: string[]; mounts: Array<MountSpec & { source?: string; fromSource?: StepSource }>; network?: string; security?: string }
  | {
    kind: 'COPY' | 'ADD'; sources: string[]; dest: string; from?: StepSource; chown?: string; chmod?: string; exclude: string[];
    /** Heredoc files written into `dest` (bodies expanded unless the heredoc word was quoted). */
    inlineFiles: Array<{ name: string; data: string }>;
    link: boolean; parents: boolean; checksum?: string;
  }
  | { kind: 'ENV' | 'LABEL'; pairs: Array<[string, string]> }
  | { kind: 'ARG'; args: Array<[string, string | undefined]> }
  | { kind: 'WORKDIR'; path: string }
  | { kind: 'USER'; user: string }
  | { kind: 'EXPOSE'; ports: string[] }
  | { kind: 'VOLUME'; volumes: string[] }
  | { kind: 'STOPSIGNAL'; signal: string }
  | { kind: 'CMD' | 'ENTRYPOINT'; command: string[] }
  | { kind: 'SHELL'; shell: string[] }
  | { kind: 'HEALTHCHECK' | 'ONBUILD' | 'MAINTAINER'; value: string };

export interface Step {
  kind: InstructionKind;
  /** The typed instruction (raw values) this step came from. */
  instruction: Instruction;
  expanded: ExpandedArgs;
  range: SourceRange;
  /** The instruction text, for progress output. */
  original: string;
  /** The state before this step. */
  state: StepState;
  /** The history entry this step adds (`empty_layer` for metadata-only steps); none for ONBUILD. */
  history?: HistoryEntry;
  /** Whether the step makes a graph vertex (RUN, COPY, ADD, WORKDIR). */
  makesLayer: boolean;
  /** Set when the step is an ONBUILD trigger of the base image. */
  onbuild?: boolean;
}

export interface StageNode {
  index: number;
  /** The `AS` name, lowercased. */
  name?: string;
  base: StageBase;
  /** The `--platform` of FROM expanded, else the target platform. */
  platform: Platform;
  fromRange: SourceRange;
  steps: Step[];
  /**
   * The stage's image config: the base's (a stage's final config, the image
   * config from `baseImageConfig`, or scratch's default PATH) changed by its
   * steps. For an image whose config is unknown this is only the delta the
   * Dockerfile applies — and `$VAR`s the image would define expanded empty —
   * so pass `baseImageConfig` for exact results.
   */
  finalConfig: ContainerConfig;
  /** The history entries of this stage's steps (the base's own history is not included). */
  history: HistoryEntry[];
  /** MAINTAINER, the image's `author`. */
  author?: string;
}

export type EdgeKind = 'from' | 'copy' | 'mount';

/** `from` depends on `to`: a FROM <stage>, COPY --from=<stage> or RUN --mount from=<stage>. */
export interface StageEdge {
  from: number;
  to: number;
  kind: EdgeKind;
  range: SourceRange;
}

export interface StageGraph {
  file: string;
  stages: StageNode[];
  target: StageNode;
  /** Indexes of the stages the target depends on, itself included, ascending: only these run. */
  reachable: number[];
  edges: StageEdge[];
  /** Build args in effect (`--build-arg` values and meta ARG defaults) as used for expansion. */
  buildArgs: Array<[string, string]>;
  warnings: Warning[];
  /**
   * Proxy build args (`HTTP_PROXY`…) given without an ARG: every RUN gets them
   * in its environment, but they stay out of history and cache keys (BuildKit's
   * `llb.WithProxy`). A stage that declares one with ARG has it as a normal ARG.
   */
  proxyEnv: Array<[string, string]>;
  /** `--build-arg` names no ARG consumed, sorted. */
  unusedBuildArgs: string[];
}

export interface BuildStageGraphOptions {
  dockerfile: string;
  /** Name for errors and warnings; default `Dockerfile`. */
  file?: string;
  buildArgs?: Record<string, string>;
  /** Stage name or index to build; default the last stage. */
  target?: string;
  /** Default: the host platform for both. */
  platform?: { build: Platform; target: Platform };
  /** The config of a base image when known (seeds ENV, WORKDIR…, and ONBUILD triggers). */
  baseImageConfig?: (ref: string) => ImageConfig | undefined;
}
