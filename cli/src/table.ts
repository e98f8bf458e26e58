/** Left-aligned columns separated by three spaces, like docker's tables. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** 1.2MB / 532kB / 12B, docker's units (powers of 1000). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toPrecision(3).replace(/\.0+$/, '')}${units[i]}`;
}

/** "3 minutes ago", "2 days ago" — docker's CREATED column. */
export function timeAgo(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const units: Array<[number, string]> = [[31536000, 'year'], [2592000, 'month'], [604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [size, name] of units) {
    if (s >= size) {
      const n = Math.floor(s / size);
      return `${n} ${name}${n === 1 ? '' : 's'} ago`;
    }
  }
  return 'Less than a second ago';
}
