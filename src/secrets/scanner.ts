import { requireCheck } from '../core/checks.js';
import type { Finding } from '../core/types.js';
import { isConfigFile, SECRET_RULES, type SecretRule } from './rules.js';

export interface SecretMatch {
  ruleId: string;
  /** 1-based line of the match. */
  line: number;
  /** The matched line with the secret masked, trimmed to a readable length. */
  masked: string;
  /** The secret with all but a short prefix masked. */
  maskedSecret: string;
}

/** All but the first four characters of long values (enough to tell keys apart), everything of short ones. */
export function mask(secret: string): string {
  const keep = secret.length >= 16 ? 4 : 0;
  return secret.slice(0, keep) + '*'.repeat(Math.min(secret.length - keep, 40));
}

const MAX_SNIPPET = 160;

function lineAt(text: string, index: number): { line: number; start: number; end: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  const nl = text.indexOf('\n', index);
  return { line, start, end: nl === -1 ? text.length : nl };
}

/** Searches one text for secrets. `path` decides whether the configuration-only rules apply. */
export function findSecrets(text: string, path: string, rules: readonly SecretRule[] = SECRET_RULES): SecretMatch[] {
  const lower = text.toLowerCase();
  const config = isConfigFile(path);
  const out: SecretMatch[] = [];
  for (const rule of rules) {
    if (rule.configOnly && !config) continue;
    if (!rule.keywords.some((k) => lower.includes(k))) continue;
    rule.regex.lastIndex = 0;
    for (const m of text.matchAll(rule.regex)) {
      const secret = m.groups?.secret;
      if (!secret || rule.reject?.(secret)) continue;
      const at = m.index + m[0].indexOf(secret);
      const { line, start, end } = lineAt(text, at);
      const lineText = text.slice(start, end);
      const masked = lineText.replace(secret.split(/\r?\n/)[0]!, mask(secret)).trim();
      out.push({
        ruleId: rule.id,
        line,
        masked: masked.length > MAX_SNIPPET ? `${masked.slice(0, MAX_SNIPPET)}…` : masked,
        maskedSecret: mask(secret.replace(/\s+/g, '')),
      });
    }
  }
  return out;
}

/** A secret finding in the DESIGN.md contract shape. */
export function secretFinding(m: SecretMatch, where: { path: string; layer?: string }): Finding {
  const info = requireCheck(m.ruleId);
  return {
    kind: 'secret',
    id: info.id,
    severity: info.severity,
    title: info.title,
    nist: info.nist[0]!,
    pci: info.pci,
    path: where.path,
    ...(where.layer ? { layer: where.layer } : {}),
    line: m.line,
    match: m.masked,
    secret: m.maskedSecret,
    fix: info.fix,
  };
}
