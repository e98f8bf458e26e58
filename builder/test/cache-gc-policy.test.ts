/** The GC's pure parts: policies as buildkitd reads them, filters, BuildKit's keep-bytes and deletion order. */
import { expect } from 'chai';
import { defaultGcPolicies, deletionOrder, keepBytesOf, matchesFilters, parseDuration, parseSize, policyFromFlags, type UsageRecord } from '@tsbuild/builder';

function record(id: string, lastUsedMs: number, usageCount: number, over: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id, type: 'regular', description: `[2/3] RUN make ${id}`, shared: false, inUse: false, size: 1000,
    createdAt: new Date(0), writtenAt: new Date(0), lastUsedAt: new Date(lastUsedMs), usageCount,
    keys: [], children: 0, parents: [], owned: [], ...over,
  };
}

describe('cache GC policy', () => {
  it('reads sizes as docker does (binary multiples) and Go durations', () => {
    expect(parseSize('2g')).to.equal(2 * 1024 ** 3);
    expect(parseSize('512MB')).to.equal(512 * 1024 ** 2);
    expect(parseSize('10KiB')).to.equal(10240);
    expect(parseSize('1048576')).to.equal(1048576);
    expect(() => parseSize('lots')).to.throw(/invalid size "lots"/);
    expect(parseDuration('24h')).to.equal(86_400_000);
    expect(parseDuration('1h30m')).to.equal(5_400_000);
    expect(parseDuration('90s')).to.equal(90_000);
    expect(() => parseDuration('24')).to.throw(/invalid duration/);
    expect(() => parseDuration('1h junk')).to.throw(/invalid duration/);
  });

  it('takes until= and unused-for= as keep-duration, and rejects an unknown filter field before anything is removed', () => {
    expect(policyFromFlags({ filters: ['until=24h'] })).to.deep.include({ keepDuration: 86_400_000, filters: [] });
    expect(policyFromFlags({ filters: ['unused-for=2h', 'type=regular'], all: true, keepStorage: 5 })).to.deep.equal({ all: true, filters: ['type=regular'], keepDuration: 7_200_000, maxUsedSpace: 5 });
    expect(() => policyFromFlags({ filters: ['colour=red'] })).to.throw(/invalid filter "colour=red"/);
    expect(() => policyFromFlags({ filters: ['description~=(['] })).to.throw();
  });

  it('matches filters as containerd does: clauses of one string all hold, any string may match; ids by prefix', () => {
    const r = record('abcdef0123456789abcdef012', 0, 1);
    const mount = record('ffff', 0, 1, { type: 'exec.cachemount', shared: true });
    expect(matchesFilters(r, undefined)).to.equal(true);
    expect(matchesFilters(r, ['type=regular'])).to.equal(true);
    expect(matchesFilters(r, ['type==exec.cachemount'])).to.equal(false);
    expect(matchesFilters(r, ['type!=exec.cachemount'])).to.equal(true);
    expect(matchesFilters(r, ['id=abcdef'])).to.equal(true);
    expect(matchesFilters(r, ['id=abcdef,type=exec.cachemount'])).to.equal(false);
    expect(matchesFilters(r, ['id=0000', 'type=regular'])).to.equal(true);
    expect(matchesFilters(r, ['description~=RUN make'])).to.equal(true);
    expect(matchesFilters(r, ['private'])).to.equal(true);
    expect(matchesFilters(mount, ['shared'])).to.equal(true);
    expect(matchesFilters(mount, ['private'])).to.equal(false);
  });

  it('keeps bytes as BuildKit calculateKeepBytes: max used, reserved as a floor, min free only when short', () => {
    expect(keepBytesOf({}, 100, 0)).to.equal(0);
    expect(keepBytesOf({ maxUsedSpace: 50 }, 100, 0)).to.equal(50);
    expect(keepBytesOf({ maxUsedSpace: 50, reservedSpace: 70 }, 100, 0)).to.equal(70);
    expect(keepBytesOf({ minFreeSpace: 30 }, 100, 10)).to.equal(80); // 20 bytes short of free space
    expect(keepBytesOf({ minFreeSpace: 30 }, 100, 50)).to.equal(100); // enough free: delete nothing
    expect(keepBytesOf({ maxUsedSpace: 90, minFreeSpace: 30 }, 100, 0)).to.equal(70);
  });

  it('removes in BuildKit sortDeleteRecords order: least recently and least often used first', () => {
    const old = record('old', 1000, 5);
    const rare = record('rare', 3000, 1);
    const hot = record('hot', 3000, 9);
    const recent = record('recent', 4000, 1);
    expect(deletionOrder([hot, recent, rare, old]).map((r) => r.id)).to.deep.equal(['rare', 'old', 'recent', 'hot']);
  });

  it('has buildkitd default policies for a cap: reproducible data after 48h, 60 days, the cap, then shared records', () => {
    const p = defaultGcPolicies(1e9);
    expect(p).to.have.length(4);
    expect(p[0]).to.deep.include({ keepDuration: 48 * 3600_000, maxUsedSpace: 512e6 });
    expect(p[0]!.filters).to.include('type==exec.cachemount');
    expect(p.slice(1).map((x) => x.reservedSpace)).to.deep.equal([1e9, 1e9, 1e9]);
    expect(p[3]!.all).to.equal(true);
  });
});
