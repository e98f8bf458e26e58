export type {
  Mount,
  ProcessRequest,
  ExecMount,
  BindExecMount,
  CacheExecMount,
  CacheSharing,
  TmpfsExecMount,
  SecretExecMount,
  SshExecMount,
  ExecRequest,
  RunOptions,
  RunResult,
  Executor,
  ResolvedUser,
} from './types.js';
export { createExecutor, OciExecutor, type ExecutorOptions } from './oci-executor.js';
export { runOrThrow } from './run-or-throw.js';
export { buildSpec, buildEnv, type RuntimeSpec, type BuildSpecOptions } from './spec.js';
export {
  DEFAULT_PATH,
  DEFAULT_CAPABILITIES,
  ALL_CAPABILITIES,
  MASKED_PATHS,
  READONLY_PATHS,
  DEFAULT_MOUNTS,
  capabilitiesFromMask,
  type SpecMount,
} from './spec-defaults.js';
export { resolveUser, resolveUserFrom, parsePasswd, parseGroup } from './user.js';
export { runInvocation, killInvocation, deleteInvocation, hybridCgroupShim, type RuntimeCommand, type Invocation } from './runtime-argv.js';
export { findRuntime, type RuntimeName } from './find-runtime.js';
export { mount, unmount, mountAll, mountCalls, MS, type MountCall } from './mounter.js';
export { CacheMountManager, type CacheMountLease, type CacheMountRequest } from './cache-mounts.js';
export { hostsFile, resolvConf } from './etc-files.js';
export { ownerDir, scratchMountPoint, DEFAULT_BUNDLE_DIR, DEFAULT_MOUNT_DIR } from './owner-dirs.js';
export { reclaimHost, type HostLeftover, type ReclaimHostOptions } from './reclaim.js';
export { hostPrefix, hostNamespacePath, parseMountinfo } from './namespace.js';
export { platformSupport, platformNotRunnable, exitElf, CHECKED_ARCHES, type PlatformSupport } from './emulation.js';
