export { checksumContext, type ChecksumContextOptions, type ContextChecksum, type ContextHashMode } from './checksum.js';
export { ChecksumCache, openChecksumCache, createMemoryChecksumCache, statKeyOf, EntryStat, entryStatOf, type ChecksumCacheStats } from './checksum-cache.js';
export { createExcludeMatcher, type PathMatcher } from './exclude-matcher.js';
export { selectSources, selectWith, visitSelection, cleanPattern, type SelectedSource, type SelectedEntry, type Selected, type SelectVisitor, type StatLike, type StatFn, type SelectOptions } from './select.js';
export { goMatch, hasMeta } from './go-match.js';
export { ContextPathNotFoundError, ContextPathEscapesError } from './errors.js';
export { hashFile } from './hash-file.js';
