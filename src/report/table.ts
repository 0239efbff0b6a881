import type { ImageInventory } from '../scan/index.js';

/** Left-aligned columns, widths from the content, capped so that one long name does not push the rest away. */
export function renderTable(header: string[], rows: string[][], maxWidth = 60): string {
  const widths = header.map((h, i) => Math.min(maxWidth, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const clip = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => clip(c, widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function shortDigest(d: string | undefined): string {
  return d ? d.replace(/^sha256:/, '').slice(0, 12) : '';
}

/** The package list as a table: what a person reads in a terminal. */
export function packagesTable(inv: ImageInventory): string {
  const os = inv.os ? `${inv.os.prettyName ?? `${inv.os.family} ${inv.os.version}`}` : 'unknown OS';
  const title = `${inv.names[0] ?? inv.target} (${os}) — ${inv.packages.length} packages in ${inv.layers.length} layers`;
  const rows = inv.packages.map((p) => [
    p.ecosystem,
    p.namespace && p.type !== 'maven' ? `${p.namespace}/${p.name}` : p.namespace ? `${p.namespace}:${p.name}` : p.name,
    p.version,
    shortDigest(p.layer),
    p.path,
  ]);
  return `${title}\n\n${renderTable(['ECOSYSTEM', 'NAME', 'VERSION', 'LAYER', 'PATH'], rows)}`;
}
