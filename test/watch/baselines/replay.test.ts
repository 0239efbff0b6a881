import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBaselineConfig } from '../../../src/watch/baselines/index.js';
import { replay } from '../../../src/watch/replay.js';
import { DAY, MIN, T0 } from './streams.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'palisade-baseline-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

const record = (t: number, user: string, svc: string, name: string) => ({
  eventVersion: '1.08',
  userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::111122223333:user/${user}`, accountId: '111122223333' },
  eventTime: new Date(t).toISOString(),
  eventSource: `${svc}.amazonaws.com`,
  eventName: name,
  awsRegion: 'eu-west-1',
  recipientAccountId: '111122223333',
});

// The new call comes FIRST in the file but last in time: `event` must be its index in input order (0).
const records = [record(T0 + 14 * DAY + MIN, 'alice', 'iam', 'CreateUser')];
for (let t = T0; t < T0 + 14 * DAY; t += 30 * MIN) records.push(record(t, 'alice', 'sts', 'GetCallerIdentity'));
const input = write('cloudtrail.json', JSON.stringify({ Records: records }));

const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'watch', 'replay', ...args], {
    cwd: root,
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('watch replay --baselines', () => {
  it('prints one baseline line per alert, naming the event in input order and explaining the numbers', async () => {
    const r = await cli(['--input', input, '--baselines']);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        rule: 'baseline:first-seen-action',
        kind: 'baseline',
        event: 0,
        key: 'arn:aws:iam::111122223333:user/alice',
        severity: 'MEDIUM',
        title: 'arn:aws:iam::111122223333:user/alice called iam:CreateUser for the first time',
        explanation:
          'arn:aws:iam::111122223333:user/alice called iam:CreateUser for the first time after 672 events over 14 days (1 distinct action before)',
        numbers: { events: 672, days: 14.001, distinctActions: 1 },
      },
    ]);
  });

  it('a config file sets detector options (no learning: the first call of each pair alerts too)', async () => {
    const cfg = write(
      'baselines.yaml',
      'first-seen-action: {learningDays: 0, minEvents: 0}\nrare-action: {enabled: false}\nvolume-spike: {enabled: false}\n',
    );
    const matches = await replay({ rules: [], inputs: [input], baselines: await loadBaselineConfig(cfg) });
    expect(matches.map((m) => [m.event, m.numbers?.events])).toEqual([
      [1, 0],
      [0, 672],
    ]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['unknown detector', 'first-seen: {}\n', /unknown detector "first-seen"/],
    ['misspelt option', 'volume-spike: {zscore: 3}\n', /volume-spike: unknown option "zscore"/],
    ['bad value', 'volume-spike: {alpha: 2}\n', /alpha must be in \(0, 1\]/],
    ['not a mapping', '- a\n- b\n', /expected a mapping/],
  ];
  it.each(bad)('a bad config (%s): one line on stderr naming the file, exit code 2', async (name, text, msg) => {
    const cfg = write(`${name.replace(/ /g, '-')}.yaml`, text);
    const r = await cli(['--input', input, '--baselines', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr).toContain(cfg);
  });

  it('without --rules and without --baselines it is still an error', async () => {
    const r = await cli(['--input', input]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give at least one --rules path/);
  });
});
