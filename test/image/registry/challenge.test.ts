import { describe, expect, test } from 'vitest';
import { parseChallenges } from '../../../src/image/registry/index.js';

describe('parseChallenges (WWW-Authenticate)', () => {
  test.each([
    [
      'a Bearer challenge with quoted params',
      ['Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'],
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' },
        },
      ],
    ],
    ['Basic with a realm', ['Basic realm="palisade-test"'], [{ scheme: 'basic', params: { realm: 'palisade-test' } }]],
    ['a bare scheme', ['Basic'], [{ scheme: 'basic', params: {} }]],
    [
      'two challenges in one header',
      ['Basic realm="r", Bearer realm="https://a/t", service=svc'],
      [
        { scheme: 'basic', params: { realm: 'r' } },
        { scheme: 'bearer', params: { realm: 'https://a/t', service: 'svc' } },
      ],
    ],
    [
      'two header values',
      ['Basic realm="r"', 'Bearer realm="https://a/t"'],
      [
        { scheme: 'basic', params: { realm: 'r' } },
        { scheme: 'bearer', params: { realm: 'https://a/t' } },
      ],
    ],
    [
      'escaped quotes and commas inside a quoted value, spaces around "="',
      ['Bearer realm = "https://a/t?x=1,y=2", scope="repo:\\"q\\":pull"'],
      [{ scheme: 'bearer', params: { realm: 'https://a/t?x=1,y=2', scope: 'repo:"q":pull' } }],
    ],
    ['mixed-case scheme and parameter names', ['BEARER Realm="x"'], [{ scheme: 'bearer', params: { realm: 'x' } }]],
    ['garbage', ['"""'], []],
    ['nothing', [], []],
  ])('%s', (_name, values, expected) => {
    expect(parseChallenges(values)).toEqual(expected);
  });
});
