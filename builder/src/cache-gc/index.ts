export { cacheUsage, cacheMountLeaseKey, cacheMountsDir, type CacheUsage, type UsageRecord } from './usage.js';
export { pruneBuildCache, deletionOrder, type PruneCacheOptions, type PruneCacheResult } from './prune-cache.js';
export { defaultGcPolicies, keepBytesOf, matchesFilters, parseDuration, parseSize, policyFromFlags, type GcPolicy, type UsageRecordType, type FilterableRecord } from './policy.js';
