/**
 * Registry authentication against real servers: a docker-registry with htpasswd (Basic) auth, and the same
 * kind of registry behind a loopback token-auth front (Bearer challenge, token endpoint, storage redirects).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { AuthError, UserInputError } from '../../../src/core/errors.js';
import { openRegistryImage, type RegistryOpenOptions } from '../../../src/image/registry/index.js';
import { DEFAULT_LIMITS, type OpenedImage } from '../../../src/image/types.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { type BearerProxy, startBearerProxy } from './bearer-proxy.js';
import { type LayoutImage, readLayoutImage, tarPaths } from './oci-layout.js';

const USER = 'alice';
const PASSWORD = 'correct-horse-battery';
const WRONG = 'wrong-password-do-not-print';

let basicReg: TestRegistry;
let openReg: TestRegistry;
let npmApp: LayoutImage;
const temps: string[] = [];

async function dockerConfig(config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-dockercfg-'));
  temps.push(dir);
  await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
/** An empty docker config dir, so that the user's own ~/.docker never leaks into a test. */
let noConfig: string;

async function pull(host: string, opts: RegistryOpenOptions): Promise<OpenedImage> {
  return openRegistryImage(`${host}/palisade/npm-app:app`, {
    insecureRegistry: true,
    dockerConfigDir: noConfig,
    ...opts,
  });
}

async function expectPulls(host: string, opts: RegistryOpenOptions): Promise<OpenedImage> {
  const image = await pull(host, opts);
  expect(image.configDigest).toBe(npmApp.manifest.config.digest);
  expect(image.layers.map((l) => l.digest)).toEqual(npmApp.manifest.layers.map((l) => l.digest));
  return image;
}

function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );
}

beforeAll(async () => {
  npmApp = await readLayoutImage('npm-app');
  noConfig = await dockerConfig({});
  [basicReg, openReg] = await Promise.all([
    startRegistry({ htpasswd: { username: USER, password: PASSWORD } }),
    startRegistry(),
  ]);
  await Promise.all([
    basicReg.pushImage('npm-app', 'palisade/npm-app:app'),
    openReg.pushImage('npm-app', 'palisade/npm-app:app'),
  ]);
});

afterAll(async () => {
  await Promise.all([basicReg?.stop(), openReg?.stop()]);
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

describe('Basic auth (docker-registry with htpasswd)', () => {
  test('anonymous pull is AuthError saying credentials are needed', async () => {
    const err = await failure(pull(basicReg.host, {}));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toBe(
      `registry ${basicReg.host}: palisade/npm-app requires credentials (use --username/--password or docker login)`,
    );
  });

  test('username and password from the options pull the image', async () => {
    await (await expectPulls(basicReg.host, { username: USER, password: PASSWORD })).close();
  });

  test('a wrong password is AuthError and the password is not in the message', async () => {
    const err = await failure(pull(basicReg.host, { username: USER, password: WRONG }));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toBe(`registry ${basicReg.host}: the credentials were rejected for palisade/npm-app`);
    expect(err.message).not.toContain(WRONG);
    expect(err.message).not.toContain(b64(`${USER}:${WRONG}`));
  });

  test.each([
    ['host:port key', (h: string) => h],
    ['URL key with scheme and path', (h: string) => `http://${h}/v2/`],
  ])('credentials come from config.json auths (%s)', async (_name, key) => {
    const dir = await dockerConfig({ auths: { [key(basicReg.host)]: { auth: b64(`${USER}:${PASSWORD}`) } } });
    await (await expectPulls(basicReg.host, { dockerConfigDir: dir })).close();
  });

  test('DOCKER_CONFIG names the config directory when no option does', async () => {
    const dir = await dockerConfig({ auths: { [basicReg.host]: { auth: b64(`${USER}:${PASSWORD}`) } } });
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = dir;
    try {
      const image = await openRegistryImage(`${basicReg.host}/palisade/npm-app:app`, { insecureRegistry: true });
      expect(image.configDigest).toBe(npmApp.manifest.config.digest);
      await image.close();
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
    }
  });

  test('username/password options win over config.json', async () => {
    const dir = await dockerConfig({ auths: { [basicReg.host]: { auth: b64(`${USER}:${WRONG}`) } } });
    await (await expectPulls(basicReg.host, { dockerConfigDir: dir, username: USER, password: PASSWORD })).close();
  });

  test('config.json credentials for another host are not sent', async () => {
    const dir = await dockerConfig({ auths: { '127.0.0.1:1': { auth: b64(`${USER}:${PASSWORD}`) } } });
    const err = await failure(pull(basicReg.host, { dockerConfigDir: dir }));
    expect(err).toBeInstanceOf(AuthError);
  });

  test.each([
    ['config.json that is not JSON', '{"auths": {', 'not valid JSON'],
    [
      'an auth entry without a colon',
      (h: string) => ({ auths: { [h]: { auth: b64('secret-without-colon') } } }),
      'is malformed',
    ],
  ])('%s is UserInputError without the secret', async (_name, config, why) => {
    const dir = await dockerConfig(typeof config === 'function' ? config(basicReg.host) : config);
    const err = await failure(pull(basicReg.host, { dockerConfigDir: dir }));
    expect(err).toBeInstanceOf(UserInputError);
    expect(err.message).toContain(why);
    expect(err.message).not.toContain('secret-without-colon');
  });

  test('a username without a password is UserInputError', async () => {
    const err = await failure(pull(basicReg.host, { username: USER }));
    expect(err).toBeInstanceOf(UserInputError);
    expect(err.message).toBe('registry credentials need both a username and a password');
  });
});

describe('Bearer token challenge (token-auth front for a real registry)', () => {
  let proxy: BearerProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  test('an anonymous token for repository:REPO:pull is fetched with the challenge service, then used', async () => {
    proxy = await startBearerProxy(openReg);
    const image = await expectPulls(proxy.host, {});
    await image.close();
    expect(proxy.tokenRequests).toHaveLength(1);
    const t = proxy.tokenRequests[0]!;
    expect([t.method, t.query.get('scope'), t.query.get('service'), t.authorization]).toEqual([
      'GET',
      'repository:palisade/npm-app:pull',
      'palisade-test',
      undefined,
    ]);
  });

  test('Basic credentials go to the token endpoint, which returns the token', async () => {
    proxy = await startBearerProxy(openReg, { username: USER, password: PASSWORD });
    await (await expectPulls(proxy.host, { username: USER, password: PASSWORD })).close();
    const t = proxy.tokenRequests[0]!;
    expect(t.authorization).toBe(`Basic ${b64(`${USER}:${PASSWORD}`)}`);
    expect(t.query.get('account')).toBe(USER);
  });

  test('rejected credentials at the token endpoint are AuthError without password or token', async () => {
    proxy = await startBearerProxy(openReg, { username: USER, password: PASSWORD });
    const err = await failure(pull(proxy.host, { username: USER, password: WRONG }));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toBe(
      `registry ${proxy.host}: the token service ${proxy.host} rejected the credentials (HTTP 401)`,
    );
    expect(err.message).not.toContain(WRONG);
  });

  test('a token endpoint that wants credentials, asked anonymously, is AuthError saying so', async () => {
    proxy = await startBearerProxy(openReg, { username: USER, password: PASSWORD });
    const err = await failure(pull(proxy.host, {}));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toBe(
      `registry ${proxy.host}: the token service ${proxy.host} requires credentials (use --username/--password or docker login)`,
    );
  });

  test('an identitytoken from config.json is exchanged through the OAuth2 refresh_token grant', async () => {
    const refresh = 'refresh-token-value-do-not-print';
    proxy = await startBearerProxy(openReg, { identityToken: refresh });
    const dir = await dockerConfig({ auths: { [proxy.host]: { auth: b64(`${USER}:`), identitytoken: refresh } } });
    await (await expectPulls(proxy.host, { dockerConfigDir: dir })).close();
    const t = proxy.tokenRequests[0]!;
    expect(t.method).toBe('POST');
    expect(Object.fromEntries(t.form!)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refresh,
      client_id: 'palisade',
      scope: 'repository:palisade/npm-app:pull',
      service: 'palisade-test',
    });
  });

  test('a cross-origin blob redirect is followed without the Authorization header; entries match the layout', async () => {
    proxy = await startBearerProxy(openReg, { redirectBlobs: 'cross-origin' });
    const image = await expectPulls(proxy.host, {});
    try {
      const last = image.layers.length - 1;
      const paths = new Set<string>();
      for await (const e of image.layers[last]!.entries(DEFAULT_LIMITS)) paths.add(e.path);
      expect(paths).toEqual(await tarPaths(npmApp.blobPath(npmApp.manifest.layers[last]!.digest)));
    } finally {
      await image.close();
    }
    // The config blob and the layer blob both went to storage, never with the registry's token.
    expect(proxy.storageAuthorizations).toEqual([undefined, undefined]);
  });

  test('a same-origin blob redirect keeps the Authorization header (the front demands it)', async () => {
    proxy = await startBearerProxy(openReg, { redirectBlobs: 'same-origin' });
    const image = await expectPulls(proxy.host, {});
    try {
      let n = 0;
      for await (const _ of image.layers[image.layers.length - 1]!.entries(DEFAULT_LIMITS)) n++;
      expect(n).toBeGreaterThan(0);
    } finally {
      await image.close();
    }
    expect(proxy.storageAuthorizations).toEqual([]);
  });
});
