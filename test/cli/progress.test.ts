import { describe, expect, it } from 'vitest';
import { progressReporter, statusLine } from '../../src/cli/progress.js';

/** A stream that says it is a terminal and keeps what is written to it. */
function terminal(isTTY = true): NodeJS.WriteStream & { text: string } {
  const s = {
    isTTY,
    text: '',
    write(chunk: string) {
      s.text += chunk;
      return true;
    },
  };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

describe('the status line on stderr', () => {
  it('redraws in place, at most every 100 ms unless forced; notes go above it; done clears it', () => {
    const t = terminal();
    const line = statusLine({ stream: t });
    line.update('importing: 1 / 3');
    line.update('importing: 2 / 3'); // within 100 ms: skipped
    line.update('importing: 3 / 3', true);
    line.note('palisade: warning: x');
    line.done();
    expect(t.text).toBe(
      '\r\x1b[2Kimporting: 1 / 3\r\x1b[2Kimporting: 3 / 3\r\x1b[2Kpalisade: warning: x\nimporting: 3 / 3\r\x1b[2K',
    );
  });

  it('is silent when stderr is not a terminal or with --quiet, and notes print plainly', () => {
    for (const [t, quiet] of [
      [terminal(false), false],
      [terminal(true), true],
    ] as const) {
      const line = statusLine({ stream: t, quiet });
      line.update('importing: 1 / 3', true);
      line.note('palisade: warning: x');
      line.done();
      expect(t.text).toBe('palisade: warning: x\n');
    }
  });

  it('shows a scan layer by layer with its bytes', () => {
    const t = terminal();
    const p = progressReporter({ stream: t });
    p.onProgress?.({ kind: 'layer-start', index: 0, total: 2, digest: 'sha256:00', size: 2 * 1048576 });
    p.done();
    expect(t.text).toBe(`\r\x1b[2Klayer 1/2 [${'.'.repeat(24)}] 0.0 MB / 2.0 MB\r\x1b[2K`);
    expect(progressReporter({ stream: terminal(false) }).onProgress).toBeUndefined();
  });
});
