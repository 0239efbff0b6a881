import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { checkKey, type LakeBackend } from './backend.js';

/**
 * Lake in S3: a PutObject is atomic (an object appears whole or not at all), so no temp-and-rename is needed.
 * Credentials come from the SDK's default chain; server-side encryption follows the bucket's default.
 */
export function s3Lake(bucket: string, prefix: string, config: S3ClientConfig = {}): LakeBackend {
  const client = new S3Client(config);
  const base = prefix ? `${prefix.replace(/\/+$/, '')}/` : '';
  return {
    description: `s3://${bucket}/${base}`,
    async put(key, bytes) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: base + checkKey(key),
          Body: bytes,
          ContentType: 'application/x-ndjson',
          ContentEncoding: 'gzip',
        }),
      );
    },
    async *list(p = '') {
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: base + p, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key) yield { key: o.Key.slice(base.length), size: o.Size ?? 0 };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: base + checkKey(key) }));
    },
  };
}
