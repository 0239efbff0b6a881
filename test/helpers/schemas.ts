import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { newAjv } from '../../src/core/json-schema.js';

const Ajv04 = Ajv04Module.default;
const addFormats = addFormatsModule.default;

const dir = new URL('../fixtures/schemas/', import.meta.url);
const load = (rel: string) => JSON.parse(readFileSync(new URL(rel, dir), 'utf8')) as Record<string, unknown>;

function draft07(main: string, ...refs: string[]): ValidateFunction {
  const ajv = newAjv();
  for (const r of refs) ajv.addSchema(load(r));
  return ajv.compile(load(main));
}

/** Validators for the official output schemas (test/fixtures/schemas, see PROVENANCE.md there). */
export const schemas = {
  cyclonedx: () =>
    draft07(
      'cyclonedx-1.6/bom-1.6.schema.json',
      'cyclonedx-1.6/spdx.schema.json',
      'cyclonedx-1.6/jsf-0.82.schema.json',
    ),
  spdx: () => draft07('spdx-2.3/spdx-schema.json'),
  sarif: () => {
    const ajv = new Ajv04({ strict: false, allErrors: true });
    addFormats(ajv as never);
    return ajv.compile(load('sarif-2.1.0/sarif-schema-2.1.0.json'));
  },
};

export function errorsOf(validate: ValidateFunction): string {
  return JSON.stringify(validate.errors?.slice(0, 5), null, 1);
}
