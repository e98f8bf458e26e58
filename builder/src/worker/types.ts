/**
 * What worker ops return: a layer stack and the committed snapshot of its
 * top. Plain JSON (it is stored in cache records as is).
 */
import type { Descriptor, Digest } from '@tsbuild/core';
import type { Result } from '../solver/index.js';

export interface LayerRef {
  descriptor: Descriptor;
  diffID: Digest;
  /**
   * When the step that made this layer ran (ISO 8601). Recorded once, in the
   * result the cache record keeps, so a cache hit returns the same time and a
   * fully cached rebuild exports the same image (BuildKit's layer `createdAt`).
   * Absent for base image layers (their history has its own times).
   */
  created?: string;
}

export interface LayerResult extends Result {
  /** Committed snapshot key of the top of the stack (its chain id); absent for an empty stack. */
  snapshot?: string;
  /** The whole stack, bottom first (base image layers included). */
  layers: LayerRef[];
  /** Chain id of the stack (or `scratch`): children key on it, so an identical rebuild does not invalidate them. */
  contentDigest: string;
  blobs: string[];
  snapshots: string[];
  /**
   * One flag per layer-making step on the way from the base image to here
   * (stages chained with FROM <stage> included): whether it added a layer,
   * which tells the exporter which layers are the steps' own. Every RUN, COPY,
   * ADD and WORKDIR adds one, also when its diff is empty (the empty tar,
   * EMPTY_TAR_DIFF_ID of @tsbuild/store), as in BuildKit; `false` only where a COPY --link merged
   * nothing.
   */
  steps: boolean[];
}

/** The result of scratch: nothing. */
export const EMPTY_RESULT: LayerResult = { layers: [], contentDigest: 'scratch', blobs: [], snapshots: [], steps: [] };
