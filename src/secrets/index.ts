import type { Finding } from '../core/types.js';
import type { ImageConfig, LayerEntry } from '../image/types.js';
import type { EntryVisitor, Visit } from '../image/visitor.js';
import { isPlaceholder } from './rules.js';
import { findSecrets, secretFinding } from './scanner.js';

export { SECRET_RULES } from './rules.js';
export { findSecrets, mask } from './scanner.js';

/** Text files larger than this are not searched (logs, dumps); configs and keys are far smaller. */
export const SECRET_MAX_FILE_BYTES = 2 * 1024 * 1024;

const BINARY_EXT =
  /\.(?:so(?:\.\d+)*|a|o|ko|png|jpe?g|gif|ico|svgz|webp|gz|tgz|xz|zst|bz2|lz4|zip|jar|war|whl|egg|pyc|mo|gmo|woff2?|ttf|otf|eot|db|sqlite|deb|rpm|apk|wasm|node|bin|dat|pack|idx)$/;
const SKIPPED_DIRS = [
  'usr/share/zoneinfo/',
  'usr/share/locale/',
  'usr/share/i18n/',
  'usr/lib/locale/',
  'usr/share/mime/',
];

function looksBinary(data: Buffer): boolean {
  const n = Math.min(data.length, 8000);
  for (let i = 0; i < n; i++) if (data[i] === 0) return true;
  return false;
}

/**
 * Finds secrets in file contents during the single pass. A secret in any layer is reported even when a
 * later layer deleted the file: it still ships in the image (DESIGN.md, step 3).
 */
export class SecretVisitor implements EntryVisitor {
  readonly name = 'secrets';
  readonly findings: Finding[] = [];

  constructor(private readonly maxBytes = SECRET_MAX_FILE_BYTES) {}

  interest(entry: LayerEntry): number | undefined {
    if (entry.type !== 'file' || entry.size === 0 || entry.size > this.maxBytes) return undefined;
    if (BINARY_EXT.test(entry.path) || SKIPPED_DIRS.some((d) => entry.path.startsWith(d))) return undefined;
    return this.maxBytes;
  }

  visit(v: Visit): void {
    if (looksBinary(v.data)) return;
    for (const m of findSecrets(v.data.toString('utf8'), v.entry.path)) {
      this.findings.push(secretFinding(m, { path: v.entry.path, layer: v.layerDigest }));
    }
  }
}

const SECRET_NAME =
  /(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)(?:_|$)/i;

/** Secrets in the image configuration: `Env` values and the build history's `created_by` lines. */
export function secretsInConfig(config: ImageConfig): Finding[] {
  const out: Finding[] = [];
  for (const kv of config.config?.Env ?? []) {
    const eq = kv.indexOf('=');
    const name = eq < 0 ? kv : kv.slice(0, eq);
    const value = eq < 0 ? '' : kv.slice(eq + 1);
    const matches = findSecrets(kv, 'config:Env');
    for (const m of matches) out.push(secretFinding(m, { path: `config:Env:${name}` }));
    if (matches.length === 0 && SECRET_NAME.test(name) && value.length >= 6 && !isPlaceholder(value)) {
      out.push(
        secretFinding(
          { ruleId: 'SECRET-IMAGE-ENV', line: 0, masked: `${name}=${'*'.repeat(8)}`, maskedSecret: '*'.repeat(8) },
          { path: `config:Env:${name}` },
        ),
      );
    }
  }
  for (const [i, h] of (config.history ?? []).entries()) {
    const text = h.created_by ?? '';
    for (const m of findSecrets(text, 'config:history')) out.push(secretFinding(m, { path: `config:history[${i}]` }));
    for (const m of text.matchAll(/\b(?:ENV|ARG|export)\s+(\w+)[= ]([^\s"']+)/g)) {
      const [, name, value] = m;
      if (name && value && SECRET_NAME.test(name) && value.length >= 6 && !isPlaceholder(value)) {
        out.push(
          secretFinding(
            {
              ruleId: 'SECRET-IMAGE-HISTORY',
              line: 0,
              masked: `${name}=${'*'.repeat(8)}`,
              maskedSecret: '*'.repeat(8),
            },
            { path: `config:history[${i}]` },
          ),
        );
      }
    }
  }
  return out;
}
