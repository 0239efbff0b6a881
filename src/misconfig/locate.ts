import { type Document, isMap, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { UserInputError } from '../core/errors.js';

export type Path = (string | number)[];

/** One parsed YAML/JSON document with the means to find the line of any path in it. */
export interface LocatedDoc {
  value: unknown;
  /** 1-based line of the deepest node along `path` that exists (the document start if none). */
  line(path: Path): number;
}

const MAX_BYTES = 16 * 1024 * 1024;

/** Parses multi-document YAML (and JSON, a subset of YAML 1.2) keeping source positions for SARIF. */
export function parseDocuments(text: string, file: string): LocatedDoc[] {
  if (text.length > MAX_BYTES) throw new UserInputError(`${file}: larger than ${MAX_BYTES} bytes`);
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: LocatedDoc[] = [];
  for (const doc of list as Document.Parsed[]) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      throw new UserInputError(
        `${file}${pos ? `:${pos.line}` : ''}: not valid YAML/JSON: ${err.message.split('\n')[0]}`,
      );
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new UserInputError(`${file}: ${(e as Error).message}`);
    }
    if (value === null || value === undefined) continue;
    out.push({
      value,
      line(path: Path): number {
        let node: unknown = doc.contents;
        let best = (doc.contents as { range?: number[] } | null)?.range?.[0] ?? 0;
        for (const key of path) {
          if (isMap(node)) node = node.get(key, true);
          else if (isSeq(node) && typeof key === 'number') node = node.get(key, true);
          else break;
          const range = (node as { range?: number[] } | undefined)?.range;
          if (!range) break;
          best = range[0]!;
        }
        return lc.linePos(best).line;
      },
    });
  }
  return out;
}
