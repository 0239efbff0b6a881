import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cargoLockAnalyzer } from '../../../src/inventory/lang/cargo-lock.js';
import { composerAnalyzer } from '../../../src/inventory/lang/composer.js';
import { dotnetDepsAnalyzer } from '../../../src/inventory/lang/dotnet-deps.js';
import { gemfileLockAnalyzer } from '../../../src/inventory/lang/gemfile-lock.js';
import { rubyGemspecAnalyzer } from '../../../src/inventory/lang/ruby-gemspec.js';
import { FIXTURES, fixture, ids, run, trivyCases, trivyIds } from './helpers.js';

describe('ruby-gemspec: the installed gemspecs of Debian bookworm ruby packages', () => {
  // RubyGems names each installed spec "<name>-<version>.gemspec": an expectation independent of its content.
  const files = [
    ...readdirSync(new URL('gemspec/', FIXTURES)).filter((f) => f.endsWith('.gemspec')),
    ...readdirSync(new URL('gemspec/default/', FIXTURES)).map((f) => `default/${f}`),
  ];

  it('covers a real population', () => {
    expect(files.length).toBe(89);
  });

  it.each(files)('%s: name-version equals the file name', async (file) => {
    const path = `usr/lib/ruby/gems/3.1.0/specifications/${file}`;
    const res = await run(rubyGemspecAnalyzer, path, fixture(`gemspec/${file}`));
    expect(res.packages).toHaveLength(1);
    const p = res.packages![0]!;
    expect(`${p.name}-${p.version}.gemspec`).toBe(file.replace(/^default\//, ''));
    expect(p.type).toBe('gem');
  });

  it('licences are read from s.licenses', async () => {
    const res = await run(
      rubyGemspecAnalyzer,
      'specifications/rack-2.2.22.gemspec',
      fixture('gemspec/rack-2.2.22.gemspec'),
    );
    expect(res.packages![0]!.licenses).toEqual(['MIT']);
    const b64 = await run(
      rubyGemspecAnalyzer,
      'specifications/default/base64-0.1.1.gemspec',
      fixture('gemspec/default/base64-0.1.1.gemspec'),
    );
    expect(b64.packages![0]!.licenses).toEqual(['Ruby', 'BSD-2-Clause']);
  });

  it.each([
    ['usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec', true],
    ['usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec', true],
    ['usr/local/bundle/specifications/default/json-2.6.1.gemspec', true],
    ['usr/local/bundle/gems/rake-13.0.6/rake.gemspec', false],
    ['srv/app/myapp.gemspec', false],
  ])('wants(%s) = %s', (path, want) => {
    expect(rubyGemspecAnalyzer.wants(path, 0o100644, 1)).toBe(want);
  });

  it('a gemspec that is not generated (no s.name / s.version) is a warning', async () => {
    const res = await run(
      rubyGemspecAnalyzer,
      'specifications/x.gemspec',
      'Gem::Specification.new do |s|\n  s.name = NAME\nend\n',
    );
    expect(res.packages).toEqual([]);
    expect(res.warnings).toHaveLength(1);
  });
});

describe('gemfile-lock: Trivy bundler vectors', () => {
  const cases = trivyCases('ruby/expected.json');
  it.each(cases.map((c) => [c.name!, c] as const))('%s: exactly the expected gems', async (_n, c) => {
    const res = await run(gemfileLockAnalyzer, 'srv/app/Gemfile.lock', fixture(`ruby/${c.file!}`));
    expect(ids(res.packages)).toEqual(trivyIds(c.want));
  });

  it('platform suffixes are not part of the version; GIT and PATH specs count', async () => {
    const text =
      'GIT\n  remote: x\n  revision: abc\n  specs:\n    mygem (0.3.0)\n\nGEM\n  remote: y\n  specs:\n    nokogiri (1.13.6-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.6.0)\n\nPLATFORMS\n  x86_64-linux\n';
    const res = await run(gemfileLockAnalyzer, 'Gemfile.lock', text);
    expect(ids(res.packages)).toEqual(['mygem@0.3.0', 'nokogiri@1.13.6', 'racc@1.6.0']);
  });
});

describe('cargo-lock: Trivy Cargo.lock vectors', () => {
  const cases = trivyCases('rust/expected.json') as (ReturnType<typeof trivyCases>[number] & { wantErr?: string })[];
  it.each(cases.map((c) => [c.file!, c] as const))('%s', async (_n, c) => {
    const res = await run(cargoLockAnalyzer, 'src/Cargo.lock', fixture(`rust/${c.file!}`));
    if (c.wantErr === 'assert.Error') {
      expect(res.packages).toEqual([]);
      expect(res.warnings![0]).toMatch(/^malformed TOML/);
      return;
    }
    expect(ids(res.packages)).toEqual([...new Set(trivyIds(c.want))]);
    expect(res.packages!.every((p) => p.type === 'cargo')).toBe(true);
  });

  it.each([
    ['Cargo.lock', true],
    ['src/app/Cargo.lock', true],
    ['root/.cargo/registry/src/x/serde-1.0/Cargo.lock', false],
  ])('wants(%s) = %s', (path, want) => {
    expect(cargoLockAnalyzer.wants(path, 0o100644, 1)).toBe(want);
  });
});

describe('composer: Trivy composer.lock vector and installed.json', () => {
  const [c] = trivyCases('php/expected.json');
  it('composer.lock: exactly the expected packages, dev flags and licences', async () => {
    const res = await run(composerAnalyzer, 'srv/app/composer.lock', fixture(`php/${c!.file!}`));
    const full = (p: { namespace?: string; name: string }) => (p.namespace ? `${p.namespace}/${p.name}` : p.name);
    expect(res.packages!.map((p) => `${full(p)}@${p.version}`).sort()).toEqual(trivyIds(c!.want));
    expect(
      res
        .packages!.filter((p) => p.dev)
        .map((p) => `${full(p)}@${p.version}`)
        .sort(),
    ).toEqual(trivyIds(c!.want, (p) => p.Dev === true));
    for (const w of c!.want!) {
      expect(res.packages!.find((p) => full(p) === w.Name)?.licenses).toEqual(w.Licenses);
    }
    expect(res.packages!.find((p) => p.name === 'guzzle')).toMatchObject({ type: 'composer', namespace: 'guzzlehttp' });
  });

  it('installed.json (Composer 2) marks dev-package-names; Composer 1 is a plain list', async () => {
    const v2 = {
      packages: [
        { name: 'monolog/monolog', version: '2.9.1', license: ['MIT'] },
        { name: 'phpunit/phpunit', version: '9.6.0' },
      ],
      dev: true,
      'dev-package-names': ['phpunit/phpunit'],
    };
    const r2 = await run(composerAnalyzer, 'srv/app/vendor/composer/installed.json', JSON.stringify(v2));
    expect(r2.packages).toEqual([
      { type: 'composer', namespace: 'monolog', name: 'monolog', version: '2.9.1', licenses: ['MIT'] },
      { type: 'composer', namespace: 'phpunit', name: 'phpunit', version: '9.6.0', dev: true },
    ]);
    const r1 = await run(composerAnalyzer, 'vendor/composer/installed.json', JSON.stringify(v2.packages));
    expect(ids(r1.packages)).toEqual(['monolog/monolog@2.9.1', 'phpunit/phpunit@9.6.0']);
  });

  it.each([
    ['srv/app/composer.lock', true],
    ['srv/app/vendor/composer/installed.json', true],
    ['srv/app/vendor/acme/lib/composer.lock', false],
    ['srv/app/installed.json', false],
  ])('wants(%s) = %s', (path, want) => {
    expect(composerAnalyzer.wants(path, 0o100644, 1)).toBe(want);
  });
});

describe('dotnet-deps: Trivy .deps.json vectors', () => {
  const cases = JSON.parse(fixture('dotnet/expected.json').toString()) as {
    file: string;
    trivy: string[];
    projects: string[];
  }[];
  // Trivy also lists the app's own projects; we report NuGet packages only.
  it.each(cases.map((c) => [c.file, c] as const))('%s: Trivy’s list without the projects', async (_n, c) => {
    const res = await run(dotnetDepsAnalyzer, `app/${c.file}`, fixture(`dotnet/${c.file}`));
    expect(ids(res.packages)).toEqual(c.trivy.filter((id) => !c.projects.includes(id)).sort());
  });

  it('self-contained runtime packs lose the "runtimepack." prefix', async () => {
    const doc = {
      runtimeTarget: { name: 'T/linux-x64' },
      targets: {
        'T/linux-x64': { 'runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0': { runtime: { 'x.dll': {} } } },
      },
      libraries: { 'runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0': { type: 'runtimepack' } },
    };
    const res = await run(dotnetDepsAnalyzer, 'app/a.deps.json', JSON.stringify(doc));
    expect(ids(res.packages)).toEqual(['Microsoft.NETCore.App.Runtime.linux-x64@8.0.0']);
  });
});

describe('hostile input in these formats is a warning', () => {
  it.each([
    [cargoLockAnalyzer, 'Cargo.lock', '[[package]\nname = '],
    [composerAnalyzer, 'composer.lock', '{"packages": ['],
    [composerAnalyzer, 'composer.lock', '{"no": 1}'],
    [dotnetDepsAnalyzer, 'a.deps.json', '{"libraries": '],
    [dotnetDepsAnalyzer, 'a.deps.json', '{"targets": {}}'],
  ] as const)('%s on %s', async (analyzer, path, text) => {
    const res = await run(analyzer, path, text);
    expect(res.packages).toEqual([]);
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings![0]).toMatch(/; file skipped$/);
  });

  it('a malformed Gemfile.lock yields nothing, no crash', async () => {
    const res = await run(gemfileLockAnalyzer, 'Gemfile.lock', fixture('ruby/testdata/Gemfile_malformed.lock'));
    expect(res.packages).toEqual([]);
  });
});
