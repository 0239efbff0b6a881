import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LimitExceededError, UserInputError } from '../core/errors.js';
import { printable } from './paths.js';
import { indexTar, resolveMember, type TarMember } from './tar-index.js';

/**
 * Named files of an image container: an OCI layout directory, or the members of a docker/OCI archive.
 * Names are relative, "/"-separated ("index.json", "blobs/sha256/<hex>"); callers build them only from
 * validated digests or from the archive's own manifest.
 */
export interface BlobStore {
  /** For messages: "oci layout DIR" or "archive FILE". */
  readonly where: string;
  /** Size in bytes, or undefined when the name is missing. */
  size(name: string): Promise<number | undefined>;
  /** Reads a whole small document (manifest, config); refuses more than `max` bytes. */
  readSmall(name: string, max: number): Promise<Buffer>;
  /** Streams a file's bytes; the caller checked that it exists. */
  open(name: string): Readable;
}

/** An OCI image layout on disk. Blobs must be regular files: a device or fifo is refused. */
export class DirStore implements BlobStore {
  readonly where: string;
  constructor(private readonly root: string) {
    this.where = `oci layout ${root}`;
  }

  async size(name: string): Promise<number | undefined> {
    try {
      const st = await stat(join(this.root, name));
      if (!st.isFile()) throw new UserInputError(`${this.where}: ${printable(name)} is not a regular file`);
      return st.size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async readSmall(name: string, max: number): Promise<Buffer> {
    const size = await this.size(name);
    if (size === undefined) throw new UserInputError(`${this.where}: ${printable(name)} is missing`);
    if (size > max) throw new LimitExceededError(`${this.where}: ${printable(name)} is larger than ${max} bytes`);
    const fh = await open(join(this.root, name), 'r');
    try {
      const buf = Buffer.alloc(size);
      const { bytesRead } = await fh.read(buf, 0, size, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  open(name: string): Readable {
    return createReadStream(join(this.root, name), { highWaterMark: 1024 * 1024 });
  }
}

/**
 * A tar archive read in place: its headers are indexed once, then each member is streamed by offset
 * with `fs.createReadStream(path, {start, end})`. Nothing is extracted.
 */
export class TarStore implements BlobStore {
  readonly where: string;
  private constructor(
    private readonly path: string,
    private readonly members: Map<string, TarMember>,
  ) {
    this.where = `archive ${path}`;
  }

  static async open(path: string, maxMembers: number): Promise<TarStore> {
    return new TarStore(path, await indexTar(path, maxMembers));
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  private member(name: string): TarMember | undefined {
    const m = resolveMember(this.members, name);
    return m && (m.typeflag === '0' || m.typeflag === '\0' || m.typeflag === '7') ? m : undefined;
  }

  async size(name: string): Promise<number | undefined> {
    return this.member(name)?.size;
  }

  async readSmall(name: string, max: number): Promise<Buffer> {
    const m = this.member(name);
    if (!m) throw new UserInputError(`${this.where}: ${printable(name)} is missing`);
    if (m.size > max) throw new LimitExceededError(`${this.where}: ${printable(name)} is larger than ${max} bytes`);
    const fh = await open(this.path, 'r');
    try {
      const buf = Buffer.alloc(m.size);
      await fh.read(buf, 0, m.size, m.offset);
      return buf;
    } finally {
      await fh.close();
    }
  }

  open(name: string): Readable {
    const m = this.member(name);
    if (!m) throw new UserInputError(`${this.where}: ${printable(name)} is missing`);
    if (m.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1024 * 1024 });
  }
}
