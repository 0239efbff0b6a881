/**
 * Secret detection rules (STYLE.md §3: rules are data). Each rule names a check id from src/core/checks.ts,
 * lower-case keywords for the prefilter (a file is searched with the regex only when one keyword occurs),
 * and a regex whose group `secret` is the value to report (masked).
 */
export interface SecretRule {
  id: string;
  keywords: readonly string[];
  regex: RegExp;
  /** Only in files that look like configuration (by name); for broad rules prone to false alarms. */
  configOnly?: boolean;
  /** Values that are clearly not secrets (placeholders, variable references). */
  reject?: (secret: string) => boolean;
}

/** A value that is a reference or a placeholder, not a secret. */
export function isPlaceholder(value: string): boolean {
  const v = value.toLowerCase();
  return (
    /^[$%{<[]|\$\{|\{\{|%\(|^\*+$|^x+$|^\.+$/.test(v) ||
    /^(?:password|passwd|secret|changeme|change_me|example|sample|dummy|none|null|true|false|undefined|redacted|your[_-]?\w*|my[_-]?\w*|test\w*|xxx+)$/.test(
      v,
    ) ||
    /^(.)\1+$/.test(v)
  );
}

/** Shannon entropy in bits per character; real generated secrets are well above 3. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: 'SECRET-AWS-ACCESS-KEY-ID',
    keywords: ['akia', 'asia', 'abia', 'acca'],
    regex: /(?<![A-Z0-9])(?<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?![A-Z0-9])/g,
  },
  {
    id: 'SECRET-AWS-SECRET-ACCESS-KEY',
    keywords: ['aws_secret', 'aws-secret', 'secret_access_key', 'secretaccesskey', 'aws_secret_key'],
    regex:
      /(?:aws[_-]?secret[_-]?(?:access[_-]?)?key|secret[_-]?access[_-]?key)["']?\s*(?:[:=]|=>|:=)\s*["']?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
  },
  {
    id: 'SECRET-GITHUB-TOKEN',
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    regex: /(?<![A-Za-z0-9_])(?<secret>(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82}))(?![A-Za-z0-9_])/g,
  },
  {
    id: 'SECRET-GITLAB-TOKEN',
    keywords: ['glpat-', 'gldt-', 'glrt-'],
    regex: /(?<![A-Za-z0-9_-])(?<secret>(?:glpat|gldt|glrt)-[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])/g,
  },
  {
    id: 'SECRET-SLACK-TOKEN',
    keywords: ['xoxb-', 'xoxa-', 'xoxp-', 'xoxr-', 'xoxs-', 'xapp-'],
    regex: /(?<![A-Za-z0-9-])(?<secret>(?:xox[baprs]-[0-9]{6,}-[A-Za-z0-9-]{8,}|xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,}))/g,
  },
  {
    id: 'SECRET-SLACK-WEBHOOK',
    keywords: ['hooks.slack.com'],
    regex:
      /https:\/\/hooks\.slack\.com\/(?:services|workflows)\/(?<secret>T[A-Z0-9]{6,}\/[AB][A-Z0-9]{6,}\/[A-Za-z0-9]{20,})/g,
  },
  {
    id: 'SECRET-STRIPE-KEY',
    keywords: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
    regex: /(?<![A-Za-z0-9_])(?<secret>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,99})(?![A-Za-z0-9_])/g,
  },
  {
    id: 'SECRET-GOOGLE-API-KEY',
    keywords: ['aiza'],
    regex: /(?<![A-Za-z0-9_-])(?<secret>AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])/g,
  },
  {
    id: 'SECRET-PRIVATE-KEY',
    keywords: ['private key'],
    // A header alone (documentation, scripts that write keys) is not a key: require a real body.
    regex:
      /-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----\r?\n(?:[A-Za-z-]+:[^\n]*\n)*\s*(?<secret>[A-Za-z0-9+/=\r\n]{64,}?)\s*-----END /g,
  },
  {
    id: 'SECRET-JWT',
    keywords: ['eyj'],
    regex:
      /(?<![A-Za-z0-9_-])(?<secret>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])/g,
  },
  {
    id: 'SECRET-DATABASE-URL',
    keywords: [
      'postgres://',
      'postgresql://',
      'mysql://',
      'mongodb://',
      'mongodb+srv://',
      'redis://',
      'rediss://',
      'amqp://',
      'amqps://',
      'mssql://',
      'sqlserver://',
    ],
    regex:
      /\b(?:postgres(?:ql)?|mysql|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver):\/\/[^:@/\s"'<>]*:(?<secret>[^@/\s"'<>]{3,})@[A-Za-z0-9.-]+/g,
    reject: isPlaceholder,
  },
  {
    id: 'SECRET-GENERIC-ASSIGNMENT',
    keywords: ['password', 'passwd', 'secret', 'api_key', 'apikey', 'api-key', 'token'],
    configOnly: true,
    regex:
      /^[ \t]*["']?(?:[A-Za-z0-9_.-]*[_.-])?(?:password|passwd|secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|client[_-]?secret)["']?[ \t]*(?:=|:)[ \t]*["']?(?<secret>[^\s"',]{8,})["']?[ \t]*,?[ \t]*(?:[#;].*)?$/gim,
    reject: (s) => isPlaceholder(s) || entropy(s) < 3 || /^[a-z]+(?:[_-][a-z]+)*$/.test(s) || /^\d+$/.test(s),
  },
];

/** File names whose content is configuration, for the configOnly rules. */
export function isConfigFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  return (
    base === '.env' ||
    base.startsWith('.env.') ||
    /\.(?:env|conf|cfg|cnf|ini|properties|ya?ml|toml|json|npmrc|pypirc|netrc)$/.test(base) ||
    base === '.npmrc' ||
    base === '.pypirc' ||
    base === '.netrc' ||
    base === '.git-credentials'
  );
}
