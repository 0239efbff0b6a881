import { LimitExceededError } from '../core/errors.js';
import type { Limits } from './types.js';

/**
 * Image-wide counters for the limits that span layers (total entries, total uncompressed bytes).
 * One budget belongs to one opened image; every layer it reads draws on it.
 */
export class ReadBudget {
  entries = 0;
  bytes = 0;

  countEntry(limits: Limits, layer: string): void {
    this.entries++;
    if (this.entries > limits.maxEntries) {
      throw new LimitExceededError(
        `layer ${layer}: image has more than ${limits.maxEntries} entries (limit maxEntries); refused`,
      );
    }
  }

  countBytes(limits: Limits, layer: string, n: number): void {
    this.bytes += n;
    if (this.bytes > limits.maxTotalBytes) {
      throw new LimitExceededError(
        `layer ${layer}: image has more than ${limits.maxTotalBytes} uncompressed bytes (limit maxTotalBytes); refused`,
      );
    }
  }
}
