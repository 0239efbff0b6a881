import { type Finding, SEVERITIES } from '../core/types.js';
import type { Verdict } from '../policy/index.js';
import type { ImageInventory } from '../scan/index.js';
import { summarize } from './findings-json.js';
import { renderTable, shortDigest } from './table.js';

/** A terminal report: a summary line per kind, vulnerabilities grouped by package, then the other findings. */
export function findingsTable(inv: ImageInventory, findings: readonly Finding[], verdict: Verdict): string {
  const os = inv.os ? `${inv.os.prettyName ?? `${inv.os.family} ${inv.os.version}`}` : 'unknown OS';
  const out: string[] = [
    `${inv.names[0] ?? inv.target} (${os}) — ${inv.packages.length} packages, ${inv.layers.length} layers`,
  ];
  const summary = summarize(findings);
  for (const [kind, counts] of Object.entries(summary)) {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const parts = [...SEVERITIES]
      .reverse()
      .filter((s) => counts[s])
      .map((s) => `${s}: ${counts[s]}`);
    out.push(`${kind}: ${total} (${parts.join(', ')})`);
  }
  if (findings.length === 0) out.push('no findings');
  const vulns = findings.filter((f) => f.kind === 'vulnerability');
  if (vulns.length) {
    out.push('', 'Vulnerabilities (grouped by package)');
    const rows: string[][] = [];
    let last = '';
    const sorted = [...vulns].sort((a, b) =>
      `${a.package}@${a.installedVersion}`.localeCompare(`${b.package}@${b.installedVersion}`),
    );
    for (const f of sorted) {
      const key = `${f.package}@${f.installedVersion}`;
      rows.push([
        key === last ? '' : (f.package ?? ''),
        key === last ? '' : (f.installedVersion ?? ''),
        f.id,
        f.severity,
        f.fixedVersion ?? '(no fix)',
        f.title,
      ]);
      last = key;
    }
    out.push(renderTable(['PACKAGE', 'INSTALLED', 'ID', 'SEVERITY', 'FIXED IN', 'TITLE'], rows));
  }
  const others = findings.filter((f) => f.kind !== 'vulnerability');
  if (others.length) {
    out.push('', 'Malware, secrets and configuration');
    out.push(
      renderTable(
        ['KIND', 'ID', 'SEVERITY', 'PATH', 'LAYER', 'DETAIL'],
        others.map((f) => [
          f.kind,
          f.id,
          f.severity,
          `${f.path ?? ''}${typeof f.line === 'number' && f.line > 0 ? `:${f.line}` : ''}`,
          shortDigest(f.layer),
          String(f.match ?? f.detail ?? f.title),
        ]),
      ),
    );
  }
  out.push('', `${verdict.pass ? 'PASS' : 'FAIL'}: ${verdict.reason}`);
  return out.join('\n');
}
