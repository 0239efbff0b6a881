import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LimitExceededError, NotFoundError } from '../../../core/errors.js';
import { type AnyRule, parseSigmaText } from './rule.js';

const MAX_FILES = 20_000;

/** Every .yml/.yaml file under the given files and directories, sorted for a stable rule order. */
export async function sigmaFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const visit = async (p: string, top: boolean): Promise<void> => {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(p);
    } catch {
      throw new NotFoundError(`rules path not found: ${p}`);
    }
    if (st.isDirectory()) {
      const entries = (await readdir(p)).sort();
      for (const e of entries) if (!e.startsWith('.')) await visit(join(p, e), false);
    } else if (top || /\.ya?ml$/i.test(p)) {
      out.push(p);
      if (out.length > MAX_FILES) throw new LimitExceededError(`more than ${MAX_FILES} rule files`);
    }
  };
  for (const p of paths) await visit(p, true);
  return out;
}

export async function loadSigmaFiles(paths: readonly string[]): Promise<AnyRule[]> {
  const rules: AnyRule[] = [];
  for (const f of await sigmaFiles(paths)) rules.push(...parseSigmaText(await readFile(f, 'utf8'), f));
  return rules;
}
