import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$PALISADE_DB`, else `${XDG_CACHE_HOME:-~/.cache}/palisade/vuln.db`. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PALISADE_DB) return env.PALISADE_DB;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'palisade', 'vuln.db');
}
