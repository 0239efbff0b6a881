import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The real images built by scripts/test-images.sh (run by test/global-setup.ts before the tests).
 * Missing images fail the test that needs them; they are never skipped.
 */
export function testImagesDir(): string {
  return (
    process.env.PALISADE_TEST_IMAGES ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'palisade', 'test-images')
  );
}

export function testImage(name: 'debian' | 'npm-app' | 'planted'): string {
  const dir = join(testImagesDir(), name);
  if (!existsSync(join(dir, '.done'))) {
    throw new Error(
      `test image ${name} missing in ${testImagesDir()}: run scripts/test-images.sh (or set PALISADE_TEST_IMAGES)`,
    );
  }
  return dir;
}
