import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  isPythonMetadataPath,
  normalizePythonName,
  pythonPackageAnalyzer,
} from '../../../src/inventory/lang/python.js';
import { fixture, input, trivyCases } from './helpers.js';

const cases = trivyCases('python/expected.json') as (ReturnType<typeof trivyCases>[number] & {
  input: string;
  wantErr?: boolean;
})[];

/**
 * Our licence choice differs from Trivy's where Trivy is inconsistent with itself (the same distlib
 * metadata gives different answers as METADATA and as egg-info) or reports placeholders: we prefer
 * License-Expression, then a real License field, then classifiers; "UNKNOWN" and "file://LICENSE" name nothing.
 */
const ourLicenses: Record<string, string[] | undefined> = {
  // Its classifiers follow a blank line inside Description, so Python's email parser (and ours) ends the
  // headers before them; "UNKNOWN" is all that is left.
  'testdata/setuptools-51.3.3-py3.8.egg-info.PKG-INFO': undefined,
  'testdata/unidecode-egg-info.PKG-INFO': undefined,
  'testdata/distlib-0.3.1.METADATA': ['Python license'],
  'testdata/networkx-3.0.METADATA': undefined,
};

describe('python-package: Trivy packaging vectors', () => {
  it.each(cases.map((c) => [`${c.name} (${c.input})`, c] as const))('%s', async (_n, c) => {
    const res = await pythonPackageAnalyzer.analyze(
      input('usr/lib/python3/dist-packages/x.dist-info/METADATA', fixture(`python/${c.input}`)),
    );
    if (c.wantErr) {
      expect(res.packages).toEqual([]);
      expect(res.warnings![0]).toMatch(/no Name and Version/);
      return;
    }
    const want = c.want![0]!;
    expect(res.packages).toHaveLength(1);
    const got = res.packages![0]!;
    expect(got).toMatchObject({ type: 'pypi', name: normalizePythonName(want.Name!), version: want.Version });
    const expectedLicenses = c.input in ourLicenses ? ourLicenses[c.input] : (want.Licenses ?? undefined);
    expect(got.licenses).toEqual(expectedLicenses);
  });
});

describe('python-package: names and paths', () => {
  it.each([
    ['PyYAML', 'pyyaml'],
    ['zope.interface', 'zope-interface'],
    ['typing_extensions', 'typing-extensions'],
    ['Foo__Bar-.baz', 'foo-bar-baz'],
  ])('normalises %s → %s (PEP 503)', (raw, want) => {
    expect(normalizePythonName(raw)).toBe(want);
  });

  const F = 0o100644;
  const D = 0o040755;
  it.each([
    ['usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA', F, true],
    ['usr/local/lib/python3.11/site-packages/pip-24.0.dist-info/METADATA', F, true],
    ['usr/lib/python3/dist-packages/crcmod-1.7.egg-info/PKG-INFO', F, true],
    ['usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info', F, true],
    ['usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info', D, false],
    ['usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info', 0o644, true], // tar permission bits only
    ['opt/venv/lib/python3.12/site-packages/x-1.0-py3.12.egg/EGG-INFO/PKG-INFO', F, true],
    ['src/project/x.dist-info/METADATA', F, false],
    ['usr/lib/python3/dist-packages/x.dist-info/RECORD', F, false],
    ['usr/lib/python3/dist-packages/pkg/METADATA', F, false],
  ])('wants(%s, %o) = %s', (path, mode, want) => {
    expect(isPythonMetadataPath(path, mode)).toBe(want);
    expect(pythonPackageAnalyzer.wants(path, mode, 1)).toBe(want);
  });

  it('continuation lines and the body do not leak into headers', async () => {
    const text = 'Name: a\nVersion: 1.0\nLicense: MIT\n  with more text\n\nName: not-this\nVersion: 9\n';
    const res = await pythonPackageAnalyzer.analyze(input('site-packages/a-1.0.dist-info/METADATA', text));
    expect(res.packages).toEqual([{ type: 'pypi', name: 'a', version: '1.0' }]); // multi-line License names nothing
  });

  it('binary garbage is a warning', async () => {
    const res = await pythonPackageAnalyzer.analyze(
      input('site-packages/a.dist-info/METADATA', Buffer.from([0, 1, 2, 0xff])),
    );
    expect(res.packages).toEqual([]);
    expect(res.warnings).toHaveLength(1);
  });
});

/** The interpreter's own view: importlib.metadata over its site/dist-packages folders. */
async function importlibView(): Promise<{ dirs: string[]; dists: string[] }> {
  const script = [
    'import importlib.metadata as m, json, os, sys, re',
    "dirs = [p for p in sys.path if p.endswith(('site-packages', 'dist-packages'))]",
    // Debian's own dist-packages too, whichever interpreter "python3" is (a pyenv one may come first).
    "dirs += [d for d in ['/usr/lib/python3/dist-packages'] if os.path.isdir(d) and d not in dirs]",
    "norm = lambda n: re.sub(r'[-_.]+', '-', n).lower()",
    "dists = sorted({norm(d.metadata['Name']) + '@' + d.version for d in m.distributions(path=dirs) if d.metadata['Name']})",
    'print(json.dumps({"dirs": dirs, "dists": dists}))',
  ].join('\n');
  const { stdout } = await promisify(execFile)('python3', ['-I', '-c', script]);
  return JSON.parse(stdout) as { dirs: string[]; dists: string[] };
}

describe('python-package: real installed packages equal importlib.metadata', () => {
  it('every distribution python3 sees in its site/dist-packages', async () => {
    const { dirs, dists } = await importlibView();
    const found = new Set<string>();
    for (const dir of dirs.filter((d) => existsSync(d))) {
      for (const entry of readdirSync(dir)) {
        const full = join(dir, entry);
        const candidates = statSync(full).isDirectory()
          ? ['METADATA', 'PKG-INFO'].map((f) => join(full, f)).filter((f) => existsSync(f))
          : [full];
        for (const file of candidates) {
          const path = file.replace(/^\//, '');
          if (!pythonPackageAnalyzer.wants(path, statSync(file).mode, 0)) continue;
          const res = await pythonPackageAnalyzer.analyze(input(path, readFileSync(file)));
          for (const p of res.packages ?? []) found.add(`${p.name}@${p.version}`);
        }
      }
    }
    expect(dists.length).toBeGreaterThanOrEqual(2); // python3-yaml and python3-setuptools at least
    expect([...found].sort()).toEqual(dists);
  });
});
