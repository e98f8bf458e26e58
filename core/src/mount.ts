/**
 * A mount as the OCI runtime spec and mount(8) describe it: plain data. The
 * one definition of it: a snapshotter (store) returns these, the executor
 * (runtime) mounts them, so a snapshot's mounts pass to a container as its
 * rootfs unchanged.
 */
export interface Mount {
  type: string; // 'overlay' | 'bind' | 'tmpfs' | …
  source: string;
  options: string[];
}
