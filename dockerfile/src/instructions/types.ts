/**
 * The typed instruction model: what each Dockerfile instruction means, with
 * its source range, raw text and validated flags. Values that the stage graph
 * will variable-expand (image names, paths, ENV/LABEL/ARG values, flag values
 * like `--chown`, `--from`, `--platform`, mount specs) are kept **raw** here:
 * quotes and `$` references untouched. Where a flag's meaning cannot depend on
 * expansion, a parsed form sits next to the raw one (see each field).
 */
import type { SourceRange } from '@tsbuild/core';

export interface InstructionFlag {
  /** Without the leading `--`. */
  name: string;
  /** As written after `=` (quotes already removed by the parser); null for a bare `--flag`. */
  value: string | null;
  range: SourceRange;
}

export interface InstructionBase {
  /** Canonical uppercase keyword. */
  kind: string;
  /** The keyword as written (`run`, `Run`). */
  keyword: string;
  /** The instruction after continuation processing: what history `created_by` shows. */
  original: string;
  range: SourceRange;
  keywordRange: SourceRange;
  flags: InstructionFlag[];
}

/** Shell form keeps the command text for `/bin/sh -c`; exec form is the argv. */
export type CommandForm =
  | { form: 'shell'; command: string }
  | { form: 'exec'; args: string[] };

/** A heredoc body: RUN's inline script or an inline file of COPY/ADD. */
export interface InlineFile {
  /** The heredoc word (for COPY/ADD the file name in the destination). */
  name: string;
  /** The body; already chomped (leading tabs removed) when `chomp` is set. */
  data: string;
  /** Whether variables in `data` are expanded (unquoted heredoc word). */
  expand: boolean;
  chomp: boolean;
  fileDescriptor: number;
}

export interface FromInstruction extends InstructionBase {
  kind: 'FROM';
  /** Raw image reference (may contain `$ARG`). */
  image: string;
  imageRange: SourceRange;
  /** Raw `--platform` value (may contain `$BUILDPLATFORM`). */
  platform?: string;
  /** The `AS` name, lowercased as BuildKit stores it. */
  stageName?: string;
  stageNameRange?: SourceRange;
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharing = 'shared' | 'private' | 'locked';

/** A parsed `RUN --mount` spec (BuildKit `instructions.Mount`). */
export interface MountSpec {
  type: MountType;
  /** Absent or relative: resolved against the WORKDIR when the RUN is dispatched (BuildKit does the same). */
  target?: string;
  source?: string;
  from?: string;
  /** Cache id, secret id or ssh id. */
  id?: string;
  /** Cache sharing; defaults to `shared` for cache mounts. */
  sharing?: CacheSharing;
  readOnly: boolean;
  required: boolean;
  /** Octal file mode (cache, secret, ssh). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** tmpfs size in bytes. */
  sizeBytes?: number;
  /** Secret exposed as this environment variable. */
  env?: string;
}

export interface RunMount {
  /** The flag value as written. */
  raw: string;
  range: SourceRange;
  /** Parsed now when `raw` has no `$`; otherwise the stage graph parses it after expansion (`parseMountSpec`). */
  spec?: MountSpec;
}

export type NetworkMode = 'default' | 'none' | 'host';
export type SecurityMode = 'sandbox' | 'insecure';

export interface RunInstruction extends InstructionBase {
  kind: 'RUN';
  command: CommandForm;
  mounts: RunMount[];
  network?: NetworkMode;
  security?: SecurityMode;
  /** Heredoc bodies (the first is the script when the command is just `<<EOF`). */
  files: InlineFile[];
}

export interface CmdInstruction extends InstructionBase {
  kind: 'CMD';
  command: CommandForm;
}

export interface EntrypointInstruction extends InstructionBase {
  kind: 'ENTRYPOINT';
  command: CommandForm;
}

export interface KeyValue {
  /** Raw key and value (quotes kept; the stage graph unquotes/expands them). */
  key: string;
  value: string;
}

export interface LabelInstruction extends InstructionBase {
  kind: 'LABEL';
  labels: KeyValue[];
  /** `LABEL key value` (the legacy form). */
  legacyFormat: boolean;
}

export interface EnvInstruction extends InstructionBase {
  kind: 'ENV';
  env: KeyValue[];
  legacyFormat: boolean;
}

export interface MaintainerInstruction extends InstructionBase {
  kind: 'MAINTAINER';
  maintainer: string;
}

export interface ExposeInstruction extends InstructionBase {
  kind: 'EXPOSE';
  /** Raw port specs (`80`, `53/udp`, `$PORT`). */
  ports: string[];
}

export interface CopyLikeFields {
  /** Raw source paths (not heredocs). */
  sources: string[];
  /** Heredoc sources, written to `dest` under their names. */
  inlineFiles: InlineFile[];
  dest: string;
  /** Whether the arguments were written as a JSON array. */
  jsonForm: boolean;
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
}

export interface AddInstruction extends InstructionBase, CopyLikeFields {
  kind: 'ADD';
  checksum?: string;
  keepGitDir?: boolean;
  unpack?: boolean;
}

export interface CopyInstruction extends InstructionBase, CopyLikeFields {
  kind: 'COPY';
  /** Raw `--from` (stage name, index or image). */
  from?: string;
  parents: boolean;
}

export interface VolumeInstruction extends InstructionBase {
  kind: 'VOLUME';
  volumes: string[];
}

export interface UserInstruction extends InstructionBase {
  kind: 'USER';
  user: string;
}

export interface WorkdirInstruction extends InstructionBase {
  kind: 'WORKDIR';
  path: string;
}

export interface ArgDefinition {
  name: string;
  /** Raw default (quotes kept); undefined when none was given. */
  default?: string;
}

export interface ArgInstruction extends InstructionBase {
  kind: 'ARG';
  args: ArgDefinition[];
}

export interface OnbuildInstruction extends InstructionBase {
  kind: 'ONBUILD';
  /** The trigger's text, as stored in the image config's `OnBuild`. */
  expression: string;
  /**
   * The trigger converted now, for early feedback; undefined when it does not
   * convert (BuildKit only checks it when a child image is built, so neither do we).
   */
  trigger?: Instruction;
}

export interface StopsignalInstruction extends InstructionBase {
  kind: 'STOPSIGNAL';
  signal: string;
}

export interface HealthcheckOptions {
  /** Nanoseconds; 0 or absent means inherit/default. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export interface HealthcheckInstruction extends InstructionBase {
  kind: 'HEALTHCHECK';
  /** NONE disables any inherited health check. */
  test: { type: 'NONE' } | { type: 'CMD'; command: CommandForm };
  options: HealthcheckOptions;
}

export interface ShellInstruction extends InstructionBase {
  kind: 'SHELL';
  shell: string[];
}

export type Instruction =
  | FromInstruction | RunInstruction | CmdInstruction | EntrypointInstruction | LabelInstruction
  | EnvInstruction | MaintainerInstruction | ExposeInstruction | AddInstruction | CopyInstruction
  | VolumeInstruction | UserInstruction | WorkdirInstruction | ArgInstruction | OnbuildInstruction
  | StopsignalInstruction | HealthcheckInstruction | ShellInstruction;

export type InstructionKind = Instruction['kind'];
