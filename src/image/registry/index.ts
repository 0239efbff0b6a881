import { UserInputError } from '../../core/errors.js';
import type { OpenedImage, OpenOptions } from '../types.js';

/** Placeholder until the registry source is merged; the registry engineer's file replaces this one. */
export async function openRegistryImage(_ref: string, _opts: OpenOptions): Promise<OpenedImage> {
  throw new UserInputError('registry: not built yet');
}
