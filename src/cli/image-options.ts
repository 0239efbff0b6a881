import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { UserInputError } from '../core/errors.js';
import type { Limits, OpenOptions } from '../image/index.js';

export interface ImageFlags {
  platform?: string;
  insecureRegistry?: boolean;
  username?: string;
  passwordStdin?: boolean;
  maxEntries?: string;
  maxFileBytes?: string;
  maxTotalBytes?: string;
  maxRatio?: string;
}

/** The flags every command that reads an image shares. */
export function addImageOptions(cmd: Command): Command {
  return cmd
    .option('--platform <os/arch[/variant]>', 'platform to pick from a multi-platform image', 'linux/amd64')
    .option('--insecure-registry', 'allow plain HTTP to the registry (loopback and test registries only)')
    .option('--username <user>', 'registry user (default: credentials from ~/.docker/config.json)')
    .option('--password-stdin', 'read the registry password from standard input')
    .addOption(new Option('--max-entries <n>', 'refuse images with more tar entries than this').default('1000000'))
    .addOption(new Option('--max-file-bytes <n>', 'bytes read of one file for analysis').hideHelp())
    .addOption(new Option('--max-total-bytes <n>', 'refuse images larger than this uncompressed').hideHelp())
    .addOption(new Option('--max-ratio <n>', 'refuse layers that decompress more than this ratio').default('200'));
}

function positive(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UserInputError(`${flag}: "${v}" is not a positive whole number`);
  return n;
}

let stdinPassword: string | undefined;

export function imageOpenOptions(flags: ImageFlags): OpenOptions & { limits: Partial<Limits> } {
  const limits: Partial<Limits> = {};
  const set = <K extends keyof Limits>(k: K, v: number | undefined) => {
    if (v !== undefined) limits[k] = v;
  };
  set('maxEntries', positive('--max-entries', flags.maxEntries));
  set('maxFileBytes', positive('--max-file-bytes', flags.maxFileBytes));
  set('maxTotalBytes', positive('--max-total-bytes', flags.maxTotalBytes));
  set('maxCompressionRatio', positive('--max-ratio', flags.maxRatio));
  const opts: OpenOptions & { limits: Partial<Limits> } = { limits };
  if (flags.platform) opts.platform = flags.platform;
  if (flags.insecureRegistry) opts.insecureRegistry = true;
  if (flags.username) opts.username = flags.username;
  if (flags.passwordStdin) {
    stdinPassword ??= readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    opts.password = stdinPassword;
  }
  return opts;
}
