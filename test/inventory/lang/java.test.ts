import { describe, expect, it } from 'vitest';
import type { FoundPackage } from '../../../src/core/types.js';
import { javaArchiveAnalyzer, parseManifest, parseProperties } from '../../../src/inventory/lang/java.js';
import { fixture, run } from './helpers.js';

/** "group:artifact:version (path)", sorted. */
function coords(pkgs: FoundPackage[] | undefined): string[] {
  return (pkgs ?? []).map((p) => `${p.namespace ?? ''}:${p.name}:${p.version}${p.path ? ` (${p.path})` : ''}`).sort();
}

async function scan(file: string, path = `opt/app/${file}`) {
  return run(javaArchiveAnalyzer, path, fixture(`java/${file}`));
}

describe('java-archive: real Maven Central jars (expected = their repository coordinates)', () => {
  it.each([
    ['plexus-component-annotations-2.1.0.jar', 'org.codehaus.plexus:plexus-component-annotations:2.1.0'],
    ['animal-sniffer-annotations-1.14.jar', 'org.codehaus.mojo:animal-sniffer-annotations:1.14'],
  ])('%s: pom.properties gives %s', async (file, want) => {
    const res = await scan(file);
    expect(res.warnings).toBeUndefined();
    expect(coords(res.packages)).toEqual([want]);
  });

  // No pom.properties: the manifest and the file name. artifactId and version are exact; the groupId
  // comes from Bundle-SymbolicName, an approximation (org.apiguardian's is "org.apiguardian.api").
  it.each([
    ['apiguardian-api-1.1.2.jar', 'org.apiguardian.api:apiguardian-api:1.1.2'],
    ['objenesis-3.4.jar', 'org.objenesis:objenesis:3.4'],
  ])('%s: MANIFEST.MF fallback gives %s', async (file, want) => {
    const res = await scan(file);
    expect(coords(res.packages)).toEqual([want]);
  });
});

describe('java-archive: archives in archives', () => {
  it('war: its own pom.properties and WEB-INF/lib jars, with their inner paths', async () => {
    const res = await scan('app.war');
    expect(coords(res.packages)).toEqual([
      'com.example:shop-web:2.4.1',
      'org.apiguardian.api:apiguardian-api:1.1.2 (opt/app/app.war/WEB-INF/lib/apiguardian-api-1.1.2.jar)',
      'org.codehaus.plexus:plexus-component-annotations:2.1.0 (opt/app/app.war/WEB-INF/lib/plexus-component-annotations-2.1.0.jar)',
    ]);
  });

  it('ear: war (depth 1) and the war’s libraries (depth 2)', async () => {
    const res = await scan('app.ear');
    expect(coords(res.packages)).toEqual([
      'com.example:shop-web:2.4.1 (opt/app/app.ear/app.war)',
      'org.apiguardian.api:apiguardian-api:1.1.2 (opt/app/app.ear/app.war/WEB-INF/lib/apiguardian-api-1.1.2.jar)',
      'org.codehaus.mojo:animal-sniffer-annotations:1.14 (opt/app/app.ear/lib/animal-sniffer-annotations-1.14.jar)',
      'org.codehaus.plexus:plexus-component-annotations:2.1.0 (opt/app/app.ear/app.war/WEB-INF/lib/plexus-component-annotations-2.1.0.jar)',
    ]);
  });

  it('shaded jar: every pom.properties is a package', async () => {
    expect(coords((await scan('shaded.jar')).packages)).toEqual([
      'com.example:uber:1.0.0',
      'com.google.guava:guava:31.1-jre',
    ]);
  });

  it('nesting deeper than 3 archives stops with a warning, keeping what was above', async () => {
    const res = await scan('deep.jar', 'deep.jar');
    expect(res.packages!.map((p) => p.name).sort()).toEqual(['level0', 'level1', 'level2', 'level3']);
    expect(res.warnings).toEqual([
      'inner.jar/inner.jar/inner.jar/inner.jar: nested deeper than 3 archives; not opened',
    ]);
  });

  it('zip bomb: the 64 MiB nested entry is refused by its ratio, unread', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const res = await scan('bomb.jar', 'bomb.jar');
    expect(coords(res.packages)).toEqual(['com.example:bomb:0.0.1']);
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings![0]).toMatch(/^lib\/zeros\.jar: .*compression ratio over 200 \(zip bomb\?\); skipped$/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
  });
});

describe('java-archive: hostile and broken files are warnings', () => {
  it.each([
    ['not a zip', Buffer.from('this is not a zip file at all, just text'.repeat(10))],
    ['truncated zip (central directory cut off)', fixture('java/app.war').subarray(0, 5000)],
    ['empty', Buffer.alloc(0)],
  ])('%s', async (_n, buf) => {
    const res = await run(javaArchiveAnalyzer, 'x.jar', buf);
    expect(res.packages).toEqual([]);
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings![0]).toMatch(/^.+; file skipped$/);
  });

  it('a corrupted nested jar is skipped, the rest is kept', async () => {
    const war = Buffer.from(fixture('java/app.war'));
    const name = 'WEB-INF/lib/apiguardian-api-1.1.2.jar';
    const at = war.indexOf(name) + name.length; // first hit: the local header, its data follows
    war.fill(0x41, at + 100, at + 600);
    const res = await run(javaArchiveAnalyzer, 'app.war', war);
    expect(res.packages!.map((p) => p.name).sort()).toEqual(['plexus-component-annotations', 'shop-web']);
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings![0]).toMatch(/^WEB-INF\/lib\/apiguardian-api-1\.1\.2\.jar: .+; skipped$/);
  });

  it('a file the walker truncated is not opened', async () => {
    const res = await javaArchiveAnalyzer.analyze({
      path: 'a.jar',
      mode: 0,
      size: 10,
      content: Buffer.alloc(5),
      truncated: true,
    });
    expect(res.warnings![0]).toMatch(/read limit/);
  });

  it.each([
    ['opt/app.jar', true],
    ['opt/app.WAR', true],
    ['srv/x.ear', true],
    ['var/jenkins/plugins/git.jpi', true],
    ['opt/app.jar.sha1', false],
    ['opt/jar', false],
  ])('wants(%s) = %s', (path, want) => {
    expect(javaArchiveAnalyzer.wants(path, 0o100644, 1)).toBe(want);
  });
});

describe('java-archive: metadata text formats', () => {
  it('properties: comments, ":" and "=" separators', () => {
    const p = parseProperties('#c\n! c\nversion = 1.2\ngroupId:g\nartifactId=a=b\n');
    expect([...p]).toEqual([
      ['version', '1.2'],
      ['groupId', 'g'],
      ['artifactId', 'a=b'],
    ]);
  });

  it('manifest: continuation lines join, per-entry sections are ignored', () => {
    const m = parseManifest(
      'Manifest-Version: 1.0\r\nImplementation-Title: very-long-na\r\n me\r\n\r\nName: x\r\nImplementation-Version: 9\r\n',
    );
    expect(m.get('Implementation-Title')).toBe('very-long-name');
    expect(m.has('Implementation-Version')).toBe(false);
  });
});
