/**
 * The empty layer: a tar with no entries (two 512-byte zero blocks), what a
 * build step that changes nothing leaves (BuildKit keeps such layers).
 *
 * gzip'd, it has one well-known form: the 32 bytes Go's compress/gzip writes
 * at its default level, blob sha256:4f4fb700…, which BuildKit and dockerd
 * push for every such layer and registries already hold. zlib writes other
 * bytes for the same input (29 of them, another digest), so the gzip
 * compressor gives these instead: the same layer then has BuildKit's blob
 * digest, and a registry has it already.
 */

/** The diff_id of the empty tar: sha256 of 1024 zero bytes. */
export const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** The empty tar as Go's gzip.NewWriter writes it: header with mtime 0 and OS 255, one fixed-Huffman block, an empty final stored block. */
export const EMPTY_TAR_GZIP = Buffer.from('1f8b08000000000000ff621805a360148c5800080000ffff2eafb5ef00040000', 'hex');

/** Its digest, the blob users meet as "the extra layer WORKDIR creates". */
export const EMPTY_TAR_GZIP_DIGEST = 'sha256:4f4fb700ef54461cfa02571ae0db9a0dc1e0cdb5577484a6d75e68dc38e8acc1';

/** Whether `data` is the whole empty tar. */
export function isEmptyTar(data: Buffer): boolean {
  return data.length === 1024 && data.every((b) => b === 0);
}
