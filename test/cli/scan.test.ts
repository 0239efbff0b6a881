import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Whole-image scans through clamd read every layer; on a loaded two-core machine that takes minutes.
vi.setConfig({ testTimeout: 300_000 });

import type { Finding } from '../../src/core/types.js';
import { type Clamd, SIGNATURES, startClamd } from '../helpers/clamd.js';
import { palisade } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { errorsOf, schemas } from '../helpers/schemas.js';
import { testImage } from '../helpers/test-images.js';

interface ScanJson {
  verdict: { pass: boolean; reason: string };
  findings: Finding[];
  image: { layers: string[] };
  warnings: string[];
}

let clamd: Clamd;
beforeAll(async () => {
  // The recommended clamd.conf: with AlertExceedsMax palisade batches small files (docs/malware.md).
  clamd = await startClamd({ streamMax: 1024 * 1024, extraConfig: ['AlertExceedsMax yes'] });
});
afterAll(async () => {
  await clamd?.stop();
});

async function scanJson(target: string, ...flags: string[]): Promise<{ code: number; json: ScanJson; stderr: string }> {
  const r = await palisade(['scan', target, '--format', 'json', '--quiet', ...flags]);
  return { code: r.code, json: JSON.parse(r.stdout || '{}'), stderr: r.stderr };
}

describe('palisade scan: malware through a real clamd, secrets, image configuration', () => {
  it('the planted image: EICAR and both custom signatures in the right layers, a deleted copy, an archive, a file too large', async () => {
    const dir = testImage('planted');
    const { code, json, stderr } = await scanJson(
      `oci:${dir}/oci:planted2`,
      ...['--clamd', clamd.tcp, '--clamd-stream-max', String(clamd.streamMax)],
      ...['--fail-on', 'critical', '--scanners', 'malware,secret,misconfig'],
    );
    expect(code, stderr).toBe(1);
    expect(json.verdict.pass).toBe(false);
    // Batched: the probe accepted this clamd, so there is no fallback warning.
    expect(json.warnings.filter((w) => w.includes('clamd'))).toEqual([]);
    const [, planted, deleting] = json.image.layers;
    const found = json.findings.filter(
      (f) => f.kind === 'malware' || (f.kind === 'not-scanned' && f.path?.startsWith('opt/')),
    );
    const expected = [
      [SIGNATURES.eicar, 'opt/malware/bundle.tar.gz'],
      [SIGNATURES.eicar, 'opt/malware/deleted-later.com'],
      [SIGNATURES.eicar, 'opt/malware/eicar.com'],
      [SIGNATURES.body, 'opt/malware/app.js'],
      [SIGNATURES.hash, 'opt/malware/custom-hash.bin'],
      ['MALWARE-NOT-SCANNED', 'opt/malware/big.bin'],
    ];
    // Each sample is reported in the layer that planted it, the copy the next layer deletes included.
    for (const [id, path] of expected)
      expect(found.map((f) => [f.id, f.path, f.layer])).toContainEqual([id, path, planted]);
    // A later layer that carries a sample again (umoci re-adds files whose metadata changed) is reported too,
    // but nothing else: every detection is one of the planted samples.
    for (const f of found) expect(expected).toContainEqual([f.id, f.path]);
    expect(found.some((f) => f.path === 'opt/malware/deleted-later.com' && f.layer === deleting)).toBe(false);
    expect(deleting).toBeDefined();
    for (const f of json.findings.filter((f) => f.kind === 'malware'))
      expect([f.nist, f.pci]).toEqual(['3.1.3', ['5.2.1', '5.2.2', '5.3.2']]);
  });

  it('the AWS documentation key pair planted in the image is found and masked in every output format', async () => {
    const dir = testImage('planted');
    const { json } = await scanJson(`oci:${dir}/oci:planted2`, '--scanners', 'secret');
    const secrets = json.findings.filter((f) => f.kind === 'secret' && f.path === 'srv/planted/.env');
    expect(secrets.map((f) => f.id).sort()).toEqual(['SECRET-AWS-ACCESS-KEY-ID', 'SECRET-AWS-SECRET-ACCESS-KEY']);
    for (const f of secrets) expect(f.nist).toBe('3.1.4');
    for (const format of ['json', 'table', 'sarif']) {
      const r = await palisade(['scan', `oci:${dir}/oci:planted2`, '--scanners', 'secret', '--format', format, '-q']);
      expect(r.stdout).toContain('AKIA****');
      expect(r.stdout).not.toContain('AKIAIOSFODNN7EXAMPLE');
      expect(r.stdout).not.toContain('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
      expect(r.stdout).not.toContain('Zq8vN2kLw9xT');
    }
    const sarif = JSON.parse(
      (await palisade(['scan', `oci:${dir}/oci:planted2`, '--scanners', 'secret,misconfig', '--format', 'sarif', '-q']))
        .stdout,
    );
    const validate = schemas.sarif();
    expect(validate(sarif), errorsOf(validate)).toBe(true);
  });

  it('the clean Debian image has zero secret findings and zero malware detections', async () => {
    const dir = testImage('debian');
    const { code, json, stderr } = await scanJson(
      `oci:${dir}/oci:bookworm`,
      '--scanners',
      'secret,malware',
      '--clamd',
      clamd.unix,
      '--clamd-stream-max',
      String(clamd.streamMax),
      '--fail-on',
      'low',
    );
    expect(json.findings, stderr).toBeDefined();
    expect(json.warnings.filter((w) => w.includes('clamd'))).toEqual([]);
    expect(json.findings.filter((f) => f.kind !== 'not-scanned')).toEqual([]);
    expect(code).toBe(0);
  });

  it('clamd unreachable: exit 2 with a clear message; leaving malware out of --scanners still scans', async () => {
    const dir = testImage('debian');
    const port = await freePort();
    const r = await palisade([
      'scan',
      `oci:${dir}/oci:bookworm`,
      '--clamd',
      `tcp://127.0.0.1:${port}`,
      '--scanners',
      'secret,malware',
      '-q',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`palisade: clamd at tcp://127.0.0.1:${port} is unreachable: ECONNREFUSED`);
    const ok = await palisade([
      'scan',
      `oci:${dir}/oci:bookworm`,
      '--clamd',
      `tcp://127.0.0.1:${port}`,
      '--scanners',
      'secret',
      '-q',
    ]);
    expect(ok.code).toBe(0);
  });
});
