import { describe, expect, test } from 'vitest';
import { UserInputError } from '../../../src/core/errors.js';
import { formatReference, parseReference } from '../../../src/image/registry/index.js';

const D = `sha256:${'a'.repeat(64)}`;
const D512 = `sha512:${'b'.repeat(128)}`;

describe('parseReference', () => {
  test.each([
    [
      '127.0.0.1:5000/palisade/debian:bookworm',
      { host: '127.0.0.1:5000', repository: 'palisade/debian', tag: 'bookworm' },
    ],
    ['registry.example/app', { host: 'registry.example', repository: 'app', tag: 'latest' }],
    ['localhost:5000/a/b/c', { host: 'localhost:5000', repository: 'a/b/c', tag: 'latest' }],
    [`host.example/app@${D}`, { host: 'host.example', repository: 'app', digest: D }],
    [`host.example/app:v1.2@${D}`, { host: 'host.example', repository: 'app', tag: 'v1.2', digest: D }],
    [`host.example/app@${D512}`, { host: 'host.example', repository: 'app', digest: D512 }],
    ['test:5000/repo', { host: 'test:5000', repository: 'repo', tag: 'latest' }],
    [
      'xn--n3h.example/myimage:xn--n3h.example',
      { host: 'xn--n3h.example', repository: 'myimage', tag: 'xn--n3h.example' },
    ],
    ['foo/foo_bar.com:8080', { host: 'foo', repository: 'foo_bar.com', tag: '8080' }],
    ['[::1]:5000/x/y:1', { host: '[::1]:5000', repository: 'x/y', tag: '1' }],
    [
      'Host.Example/my-app__x.y/z_9:Tag_1.0-rc',
      { host: 'Host.Example', repository: 'my-app__x.y/z_9', tag: 'Tag_1.0-rc' },
    ],
  ])('%s parses', (ref, expected) => {
    const r = parseReference(ref);
    expect(r).toEqual(expected);
    expect(parseReference(formatReference(r))).toEqual(r);
  });

  test.each([
    ['', 'empty or too long'],
    ['debian', 'a registry host and a repository are required'],
    ['/debian', 'a registry host and a repository are required'],
    ['https://host/app', 'no scheme'],
    ['host/App', 'repository component "App"'],
    ['host/app/', 'repository component ""'],
    ['host//app', 'repository component ""'],
    ['host/../etc', 'repository component ".."'],
    ['host/app:', '"" is not a valid tag'],
    ['host/app:-x', '"-x" is not a valid tag'],
    [`host/app:${'t'.repeat(129)}`, 'is not a valid tag'],
    ['host/app@sha256:abc', '"sha256:abc" is not a sha256 or sha512 digest'],
    [`host/app@md5:${'a'.repeat(32)}`, 'is not a sha256 or sha512 digest'],
    ['ho_st/app', '"ho_st" is not a host name'],
    ['host:99999/app', 'port 99999 out of range'],
    ['host/a b', 'no scheme, spaces or backslashes'],
    ['aa/asdf$$^/aa', 'repository component "asdf$$^"'],
    [':justtag', 'a registry host and a repository are required'],
    [`@${D}`, 'a registry host and a repository are required'],
  ])('%j is UserInputError (%s)', (ref, why) => {
    expect(() => parseReference(ref)).toThrow(UserInputError);
    expect(() => parseReference(ref)).toThrow(why);
  });
});
