import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/core/checks.js';
import { findSecrets, mask, SECRET_RULES, secretsInConfig } from '../../src/secrets/index.js';

// Example credentials from vendor documentation or made up for the test; none is live.
const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const GH = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;
const STRIPE = `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`;
const PEM = `-----BEGIN RSA PRIVATE KEY-----\n${'MIIEpAIBAAKCAQEA75ZzP1q7vzGkzmdDrzRxLk9Pz0cM5y'.repeat(3)}\n-----END RSA PRIVATE KEY-----\n`;

describe('secret rules find real shapes and mask them', () => {
  const positives: { name: string; path: string; text: string; id: string }[] = [
    {
      name: 'AWS access key id anywhere',
      path: 'srv/app/main.py',
      text: `key = "${AWS_ID}"`,
      id: 'SECRET-AWS-ACCESS-KEY-ID',
    },
    {
      name: 'AWS secret key after its name',
      path: 'root/.aws/credentials',
      text: `aws_secret_access_key = ${AWS_SECRET}`,
      id: 'SECRET-AWS-SECRET-ACCESS-KEY',
    },
    {
      name: 'AWS secret key in JSON',
      path: 'app/c.json',
      text: `{"SecretAccessKey": "${AWS_SECRET}"}`,
      id: 'SECRET-AWS-SECRET-ACCESS-KEY',
    },
    { name: 'GitHub token', path: 'app/deploy.sh', text: `TOKEN=${GH}`, id: 'SECRET-GITHUB-TOKEN' },
    {
      name: 'GitLab token',
      path: 'app/ci.sh',
      text: 'curl -H "PRIVATE-TOKEN: glpat-AbCdEfGhIjKlMnOpQrSt"',
      id: 'SECRET-GITLAB-TOKEN',
    },
    {
      name: 'Slack bot token',
      path: 'app/bot.js',
      text: "const t = 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'",
      id: 'SECRET-SLACK-TOKEN',
    },
    {
      name: 'Slack webhook',
      path: 'app/notify.py',
      text: 'URL = "https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/AbCdEfGhIjKlMnOpQrStUvWx"',
      id: 'SECRET-SLACK-WEBHOOK',
    },
    { name: 'Stripe live key', path: 'app/pay.rb', text: `Stripe.api_key = '${STRIPE}'`, id: 'SECRET-STRIPE-KEY' },
    {
      name: 'Google API key',
      path: 'app/maps.js',
      text: 'key: "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"',
      id: 'SECRET-GOOGLE-API-KEY',
    },
    { name: 'PEM private key with a body', path: 'etc/ssl/private/server.key', text: PEM, id: 'SECRET-PRIVATE-KEY' },
    {
      name: 'JWT',
      path: 'app/t.txt',
      text: 'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      id: 'SECRET-JWT',
    },
    {
      name: 'database URL with a password',
      path: 'app/settings.py',
      text: 'DB = "postgresql://payments:S3cr3tPassw0rd@db.internal:5432/pay"',
      id: 'SECRET-DATABASE-URL',
    },
    {
      name: 'password assignment in a config file',
      path: 'etc/app/app.conf',
      text: 'db_password = Xk9#mQ2!vL7p',
      id: 'SECRET-GENERIC-ASSIGNMENT',
    },
    {
      name: 'secret in YAML',
      path: 'srv/config.yaml',
      text: 'client_secret: "9f8e7d6c5b4a3f2e1d0c"',
      id: 'SECRET-GENERIC-ASSIGNMENT',
    },
  ];
  for (const p of positives) {
    it(`finds: ${p.name}`, () => {
      const found = findSecrets(p.text, p.path);
      expect(found.map((f) => f.ruleId)).toContain(p.id);
      // The full secret value never appears in what is reported.
      for (const f of found) {
        for (const secret of [AWS_ID, AWS_SECRET, GH, STRIPE, 'S3cr3tPassw0rd', 'Xk9#mQ2!vL7p']) {
          expect(f.masked).not.toContain(secret);
          expect(f.maskedSecret).not.toContain(secret);
        }
      }
    });
  }

  const negatives: { name: string; path: string; text: string }[] = [
    {
      name: 'a PEM header without a body (documentation)',
      path: 'usr/share/doc/x/README',
      text: 'Keys start with -----BEGIN RSA PRIVATE KEY----- and end with -----END RSA PRIVATE KEY-----',
    },
    {
      name: 'a password assignment in source code (config-only rule)',
      path: 'app/main.c',
      text: 'password = getpass()',
    },
    { name: 'a placeholder password', path: 'etc/app.conf', text: 'password = changeme' },
    { name: 'a variable reference', path: 'etc/app.yaml', text: 'password: ${DB_PASSWORD}' },
    { name: 'a low-entropy word', path: 'etc/app.ini', text: 'secret = aaaaaaaabbbb' },
    { name: 'a database URL without a password', path: 'app/settings.py', text: 'postgresql://payments@db:5432/pay' },
    {
      name: 'a database URL with a placeholder',
      path: 'app/settings.py',
      text: 'postgresql://user:password@localhost/db',
    },
    { name: 'a longer upper-case word that starts like a key id', path: 'x.txt', text: 'AKIAXXXXXXXXXXXXXXXXXXXXXXXX' },
  ];
  for (const n of negatives) {
    it(`ignores: ${n.name}`, () => {
      expect(findSecrets(n.text, n.path)).toEqual([]);
    });
  }

  it('reports the line of the match', () => {
    const [m] = findSecrets(`a\nb\nid=${AWS_ID}\n`, 'x.txt');
    expect(m?.line).toBe(3);
    expect(m?.masked).toBe(`id=${mask(AWS_ID)}`);
    expect(mask(AWS_ID)).toBe('AKIA****************');
  });

  it('every rule has a row in the NIST/PCI table mapped to 3.1.4', () => {
    for (const r of SECRET_RULES) {
      const row = CHECKS.find((c) => c.id === r.id);
      expect(row, r.id).toBeDefined();
      expect(row?.nist).toContain('3.1.4');
      expect(row?.pci.length).toBeGreaterThan(0);
    }
  });
});

describe('secrets in the image configuration', () => {
  it('finds keys in Env and in the build history, masked', () => {
    const found = secretsInConfig({
      raw: {},
      config: { Env: ['PATH=/usr/bin', `AWS_ACCESS_KEY_ID=${AWS_ID}`, 'DB_PASSWORD=Zq8vN2kLw9', 'API_TOKEN=${TOKEN}'] },
      history: [{ created_by: '/bin/sh -c #(nop)  ENV STRIPE_SECRET=sk_live_4eC39HqLyjWDarjtT1zdp7dc' }],
    });
    expect(found.map((f) => [f.id, f.path])).toEqual([
      ['SECRET-AWS-ACCESS-KEY-ID', `config:Env:AWS_ACCESS_KEY_ID`],
      ['SECRET-IMAGE-ENV', 'config:Env:DB_PASSWORD'],
      ['SECRET-STRIPE-KEY', 'config:history[0]'],
      ['SECRET-IMAGE-HISTORY', 'config:history[0]'],
    ]);
    expect(JSON.stringify(found)).not.toContain('Zq8vN2kLw9');
    expect(JSON.stringify(found)).not.toContain(AWS_ID);
  });
});
