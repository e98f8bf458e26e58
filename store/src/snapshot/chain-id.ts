import { sha256, type Digest } from '@tsbuild/core';

/**
 * OCI chain ids: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
 * A layer snapshot is named by its chain id, so identical layer stacks unpack once.
 */
export function chainIds(diffIDs: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffID of diffIDs) {
    const prev = out.at(-1);
    out.push(prev === undefined ? diffID : sha256(`${prev} ${diffID}`));
  }
  return out;
}
