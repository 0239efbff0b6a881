/**
 * Registry references: `HOST[:PORT]/REPO[:TAG|@DIGEST]`, what follows `registry:` in a target.
 * The grammar follows the distribution project's reference grammar; the first path component is always
 * the registry host (no implicit default registry), and a missing tag means `latest`.
 */
import { UserInputError } from '../../core/errors.js';

export interface RegistryReference {
  /** Host as written, with port when given ("127.0.0.1:5000", "[::1]:5000", "registry.example"). */
  host: string;
  /** Repository path inside the registry ("palisade/debian"). */
  repository: string;
  /** The tag; "latest" when neither tag nor digest was given. Absent when pulled by digest only. */
  tag?: string;
  /** "sha256:…" when pulled by digest. */
  digest?: string;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
/** Digest algorithms we can verify, with the hex length each produces. */
export const DIGEST_ALGORITHMS: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

/** True for "sha256:<64 lower hex>" / "sha512:<128 lower hex>". */
export function isDigest(s: string): boolean {
  const m = /^([a-z0-9]+):([a-f0-9]+)$/.exec(s);
  return m !== null && DIGEST_ALGORITHMS[m[1]!] === m[2]!.length;
}

function invalid(ref: string, why: string): UserInputError {
  return new UserInputError(`invalid registry reference "${ref}": ${why} (expected HOST[:PORT]/REPO[:TAG|@DIGEST])`);
}

export function parseReference(ref: string): RegistryReference {
  if (ref.length === 0 || ref.length > 512) throw invalid(ref.slice(0, 80), 'empty or too long');
  if (/[\s\\]|:\/\//.test(ref)) throw invalid(ref, 'no scheme, spaces or backslashes allowed');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw invalid(ref, `"${digest}" is not a sha256 or sha512 digest`);
  }

  const slash = rest.indexOf('/');
  if (slash <= 0) throw invalid(ref, 'a registry host and a repository are required');
  const host = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  if (!HOST_RE.test(host)) throw invalid(ref, `"${host}" is not a host name`);
  const port = /:([0-9]+)$/.exec(host)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw invalid(ref, `port ${port} out of range`);

  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(ref, `"${tag}" is not a valid tag`);
  }
  if (path.length === 0 || path.length > 255) throw invalid(ref, 'the repository name is empty or too long');
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) {
      throw invalid(ref, `repository component "${component}" must be lower-case letters, digits and separators`);
    }
  }
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { host, repository: path, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

/** The string a user would write for the reference, for names and messages. */
export function formatReference(r: RegistryReference): string {
  return `${r.host}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}
