import { describe, expect, it } from 'vitest';
import { palisade } from '../helpers/cli.js';
import { errorsOf, schemas } from '../helpers/schemas.js';

const fixture = (name: string) => new URL(`../fixtures/misconfig/${name}`, import.meta.url).pathname;

describe('palisade check (CLI)', () => {
  it('exit 1 with findings, exit 0 on the hardened manifests', async () => {
    const bad = await palisade(['check', fixture('k8s-insecure.yaml'), fixture('ecs-insecure.json')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('K8S-PRIVILEGED');
    expect(bad.stdout).toContain('ECS-LOG-CONFIG');
    const good = await palisade(['check', fixture('k8s-hardened.yaml'), fixture('ecs-hardened.json')]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('PASS');
  });

  it('SARIF output validates against SARIF 2.1.0 and carries file and line', async () => {
    const r = await palisade(['check', fixture('k8s-insecure.yaml'), '--format', 'sarif']);
    const sarif = JSON.parse(r.stdout);
    const validate = schemas.sarif();
    expect(validate(sarif), errorsOf(validate)).toBe(true);
    const loc = sarif.runs[0].results.find((x: { ruleId: string }) => x.ruleId === 'K8S-HOST-NETWORK').locations[0]
      .physicalLocation;
    expect(loc.artifactLocation.uri).toMatch(/k8s-insecure\.yaml$/);
    expect(loc.region.startLine).toBe(15);
  });

  it('a missing file: exit 2 and one line on stderr', async () => {
    const r = await palisade(['check', 'no-such-file.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['palisade: no-such-file.yaml: cannot read (ENOENT)']);
  });

  it('palisade rules lists every check with NIST and PCI ids', async () => {
    const r = await palisade(['rules', '--format', 'json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; nist: string[]; pci: string[] }[];
    expect(rows.find((x) => x.id === 'SECRET-AWS-SECRET-ACCESS-KEY')?.nist).toEqual(['3.1.4']);
    expect(rows.find((x) => x.id === 'MALWARE:*')?.pci).toEqual(['5.2.1', '5.2.2', '5.3.2']);
    for (const row of rows) expect(row.pci.length, row.id).toBeGreaterThan(0);
  });
});
