import type { ProgressEvent } from '../image/types.js';

/**
 * A one-line progress display on stderr for long scans: layer i/N and bytes read. Silent when stderr is
 * not a terminal or with --quiet, so that pipes and CI logs stay clean.
 */
export function progressReporter(opts: { quiet?: boolean; stream?: NodeJS.WriteStream }): {
  onProgress?: (e: ProgressEvent) => void;
  done: () => void;
} {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet || !stream.isTTY) return { done: () => {} };
  const line = statusLine(opts);
  let layer = 0;
  let total = 0;
  let size: number | undefined;
  let bytes = 0;
  const draw = (force = false) => {
    const width = 24;
    const frac = size ? Math.min(1, bytes / size) : 0;
    const bar = size ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ` : '';
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    line.update(`layer ${layer + 1}/${total} ${bar}${mb(bytes)}${size ? ` / ${mb(size)}` : ''}`, force);
  };
  return {
    onProgress(e) {
      if (e.kind === 'layer-start') {
        layer = e.index;
        total = e.total;
        size = e.size;
        bytes = 0;
        draw(true);
      } else if (e.kind === 'bytes') {
        bytes = e.bytes; // cumulative compressed bytes of this layer
        draw();
      }
    },
    done: line.done,
  };
}

/**
 * One status line on stderr, redrawn in place at most every 100 ms (unless forced). Silent when
 * stderr is not a terminal or with --quiet; `note` then prints plainly, and otherwise prints a line
 * (a warning) above the status without garbling it.
 */
export function statusLine(opts: { quiet?: boolean; stream?: NodeJS.WriteStream }): {
  update: (line: string, force?: boolean) => void;
  note: (message: string) => void;
  done: () => void;
} {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet || !stream.isTTY)
    return { update: () => {}, note: (message) => stream.write(`${message}\n`), done: () => {} };
  let last = 0;
  let shown = '';
  return {
    update(line, force = false) {
      const now = Date.now();
      if (!force && now - last < 100) return;
      last = now;
      shown = line;
      stream.write(`\r\x1b[2K${line}`);
    },
    note(message) {
      stream.write(`\r\x1b[2K${message}\n${shown}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
      shown = '';
    },
  };
}
