import { readFile, stat } from 'node:fs/promises';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { LimitExceededError, UserInputError } from '../../core/errors.js';
import { newAjv } from '../../core/json-schema.js';
import openVexSchema from './data/openvex-0.2.0.schema.json' with { type: 'json' };
import { type Purl, parsePurl } from './purl.js';

/**
 * VEX documents (OpenVEX 0.2.0 and CycloneDX VEX) read into one statement form. A statement says, for some
 * vulnerability ids and some packages (purls), what the author knows: not affected, fixed, affected or
 * still under investigation.
 */

export const MAX_VEX_BYTES = 32 * 1024 * 1024;

/** OpenVEX's statuses; CycloneDX analysis states map onto them (see CDX_STATES). */
export type VexStatus = 'not_affected' | 'fixed' | 'affected' | 'under_investigation';

export interface VexStatement {
  /** Vulnerability name and aliases as the document writes them. */
  ids: string[];
  /** Packages the statement covers. */
  purls: Purl[];
  status: VexStatus;
  /** The document's own word: OpenVEX status, or CycloneDX analysis state (false_positive, resolved, ...). */
  state: string;
  justification?: string;
  /** Human text: OpenVEX impact_statement / action_statement / status_notes, CycloneDX analysis.detail. */
  detail?: string;
  /** Milliseconds; a later statement about the same vulnerability and package overrides an earlier one. */
  time?: number;
  /** `FILE: statement N` (or its @id), for reports. */
  source: string;
}

export interface VexDocument {
  source: string;
  format: 'openvex' | 'cyclonedx';
  statements: VexStatement[];
  /** Statements or products that could not be applied, said once at load. */
  warnings: string[];
}

const CDX_STATES: Record<string, VexStatus> = {
  not_affected: 'not_affected',
  false_positive: 'not_affected',
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  exploitable: 'affected',
  in_triage: 'under_investigation',
};

export async function loadVex(path: string): Promise<VexDocument> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new UserInputError(`VEX ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (size > MAX_VEX_BYTES) {
    throw new LimitExceededError(`VEX ${path}: ${size} bytes is more than the limit of ${MAX_VEX_BYTES}`);
  }
  return parseVex(await readFile(path, 'utf8'), path);
}

/** Reads OpenVEX or CycloneDX VEX JSON, told apart by `@context` / `bomFormat`. */
export function parseVex(text: string, source: string): VexDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserInputError(`VEX ${source}: not JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UserInputError(`VEX ${source}: not an OpenVEX or CycloneDX document`);
  }
  const d = doc as Record<string, unknown>;
  if (typeof d['@context'] === 'string' && d['@context'].startsWith('https://openvex.dev/ns')) {
    return fromOpenVex(d, source);
  }
  if (d.bomFormat === 'CycloneDX') return fromCycloneDx(d, source);
  throw new UserInputError(`VEX ${source}: not an OpenVEX (@context) or CycloneDX (bomFormat) document`);
}

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

function timeOf(...values: unknown[]): number | undefined {
  for (const v of values) {
    if (typeof v === 'string') {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) return t;
    }
  }
  return undefined;
}

// ---- OpenVEX ----

const addFormats = addFormatsModule.default;
let openVexValidator: ValidateFunction | undefined;

/** JSON with object keys sorted, so that deep-equal values give equal strings. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Validation against the official OpenVEX schema (draft 2020-12; `iri` is not a standard format, so it gets a
 * scheme check). Ajv checks `uniqueItems` by comparing every pair, which takes minutes for a few tens of thousands
 * of statements; that one keyword on `statements` is checked here in linear time instead, with the same meaning.
 */
function validateOpenVex(doc: unknown): ErrorObject[] {
  if (!openVexValidator) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    ajv.addFormat('iri', /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/);
    const schema = structuredClone(openVexSchema) as { properties: { statements: { uniqueItems?: boolean } } };
    delete schema.properties.statements.uniqueItems;
    openVexValidator = ajv.compile(schema);
  }
  if (!openVexValidator(doc)) return openVexValidator.errors ?? [];
  const seen = new Map<string, number>();
  const statements = (doc as { statements: unknown[] }).statements;
  for (let i = 0; i < statements.length; i++) {
    const key = canonical(statements[i]);
    const j = seen.get(key);
    if (j !== undefined) {
      return [
        {
          instancePath: '/statements',
          schemaPath: '#/properties/statements/uniqueItems',
          keyword: 'uniqueItems',
          params: { i, j },
          message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
        },
      ];
    }
    seen.set(key, i);
  }
  return [];
}

interface OvComponent {
  '@id'?: string;
  identifiers?: { purl?: string };
  subcomponents?: OvComponent[];
}
interface OvStatement {
  '@id'?: string;
  vulnerability: { name: string; aliases?: string[] };
  products?: OvComponent[];
  status: VexStatus;
  justification?: string;
  impact_statement?: string;
  action_statement?: string;
  status_notes?: string;
  timestamp?: string;
  last_updated?: string;
}

function componentPurl(c: OvComponent): string | undefined {
  if (c.identifiers?.purl) return c.identifiers.purl;
  return c['@id']?.startsWith('pkg:') ? c['@id'] : undefined;
}

function fromOpenVex(d: Record<string, unknown>, source: string): VexDocument {
  const context = d['@context'] as string;
  if (context !== 'https://openvex.dev/ns/v0.2.0' && context !== 'https://openvex.dev/ns') {
    throw new UserInputError(`VEX ${source}: OpenVEX context ${context} is not supported (v0.2.0)`);
  }
  const errors = validateOpenVex(d);
  if (errors.length) throw new UserInputError(`VEX ${source}: not valid OpenVEX 0.2.0: ${describe(errors)}`);
  const docTime = timeOf(d.last_updated, d.timestamp);
  const warnings: string[] = [];
  const statements: VexStatement[] = [];
  (d.statements as OvStatement[]).forEach((s, i) => {
    const where = `${source}: statement ${s['@id'] ?? i + 1}`;
    // A product with subcomponents is the artefact that contains them; the subcomponents are the packages.
    const purls: Purl[] = [];
    for (const product of s.products ?? []) {
      const targets = product.subcomponents?.length ? product.subcomponents : [product];
      for (const t of targets) {
        const text = componentPurl(t);
        const purl = text ? parsePurl(text) : undefined;
        if (purl && purl.type !== 'oci') purls.push(purl);
        else
          warnings.push(
            `${where}: product ${text ?? t['@id'] ?? '(no id)'} names no package; list packages as subcomponents`,
          );
      }
    }
    if (!s.products?.length) warnings.push(`${where}: no products; not applied`);
    const detail = s.impact_statement ?? s.action_statement ?? s.status_notes;
    const time = timeOf(s.last_updated, s.timestamp) ?? docTime;
    statements.push({
      ids: [s.vulnerability.name, ...(s.vulnerability.aliases ?? [])],
      purls,
      status: s.status,
      state: s.status,
      ...(s.justification ? { justification: s.justification } : {}),
      ...(detail ? { detail } : {}),
      ...(time !== undefined ? { time } : {}),
      source: where,
    });
  });
  return { source, format: 'openvex', statements, warnings };
}

// ---- CycloneDX VEX ----

/** The parts of CycloneDX 1.4–1.6 `vulnerabilities[]` we read, checked before use. */
const cdxSchema = {
  type: 'object',
  required: ['vulnerabilities'],
  properties: {
    specVersion: { enum: ['1.4', '1.5', '1.6'] },
    vulnerabilities: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id'],
        properties: {
          id: { type: 'string', minLength: 1 },
          references: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' } } } },
          analysis: {
            type: 'object',
            properties: {
              state: { enum: Object.keys(CDX_STATES) },
              justification: { type: 'string' },
              detail: { type: 'string' },
              lastUpdated: { type: 'string' },
              firstIssued: { type: 'string' },
            },
          },
          affects: {
            type: 'array',
            items: { type: 'object', required: ['ref'], properties: { ref: { type: 'string', minLength: 1 } } },
          },
        },
      },
    },
  },
} as const;
let cdxValidator: ValidateFunction | undefined;

interface CdxVuln {
  'bom-ref'?: string;
  id: string;
  references?: { id?: string }[];
  analysis?: { state?: string; justification?: string; detail?: string; lastUpdated?: string; firstIssued?: string };
  affects?: { ref: string }[];
  updated?: string;
  published?: string;
}

/** bom-ref → purl for every component of the document, nested ones too (bounded depth). */
function componentPurls(list: unknown, into: Map<string, string>, depth = 0): void {
  if (!Array.isArray(list) || depth > 32) return;
  for (const c of list) {
    if (typeof c !== 'object' || c === null) continue;
    const ref = (c as Record<string, unknown>)['bom-ref'];
    const purl = (c as Record<string, unknown>).purl;
    if (typeof ref === 'string' && typeof purl === 'string') into.set(ref, purl);
    componentPurls((c as Record<string, unknown>).components, into, depth + 1);
  }
}

/**
 * An `affects[].ref` is a bom-ref of this document, a BOM-Link (`urn:cdx:SERIAL/VERSION#bom-ref`) into the SBOM
 * it describes, or a purl. Our own bom-refs are `PURL#path`, which parse as a purl with a subpath.
 */
function refPurl(ref: string, byRef: Map<string, string>): Purl | undefined {
  const local = byRef.get(ref);
  if (local) return parsePurl(local);
  let r = ref;
  if (r.startsWith('urn:cdx:')) {
    const hash = r.indexOf('#');
    if (hash < 0) return undefined;
    r = decodeURIComponent(r.slice(hash + 1));
    const linked = byRef.get(r);
    if (linked) return parsePurl(linked);
  }
  return r.startsWith('pkg:') ? parsePurl(r) : undefined;
}

function fromCycloneDx(d: Record<string, unknown>, source: string): VexDocument {
  cdxValidator ??= newAjv().compile(cdxSchema);
  if (!cdxValidator(d)) {
    throw new UserInputError(`VEX ${source}: not a CycloneDX VEX document: ${describe(cdxValidator.errors)}`);
  }
  const byRef = new Map<string, string>();
  componentPurls(d.components, byRef);
  const meta = d.metadata as { timestamp?: string; component?: unknown } | undefined;
  if (meta?.component) componentPurls([meta.component], byRef);
  const docTime = timeOf(meta?.timestamp);
  const warnings: string[] = [];
  const statements: VexStatement[] = [];
  (d.vulnerabilities as CdxVuln[]).forEach((v, i) => {
    const where = `${source}: vulnerability ${v['bom-ref'] ?? `${i + 1} (${v.id})`}`;
    const state = v.analysis?.state;
    if (!state) {
      warnings.push(`${where}: no analysis.state; not applied`);
      return;
    }
    const purls: Purl[] = [];
    for (const a of v.affects ?? []) {
      const purl = refPurl(a.ref, byRef);
      if (purl) purls.push(purl);
      else warnings.push(`${where}: affects ref ${a.ref} names no package`);
    }
    if (!v.affects?.length) warnings.push(`${where}: no affects; not applied`);
    const ids = [v.id, ...(v.references ?? []).flatMap((r) => (r.id ? [r.id] : []))];
    const time = timeOf(v.analysis?.lastUpdated, v.updated, v.analysis?.firstIssued, v.published) ?? docTime;
    statements.push({
      ids,
      purls,
      status: CDX_STATES[state]!,
      state,
      ...(v.analysis?.justification ? { justification: v.analysis.justification } : {}),
      ...(v.analysis?.detail ? { detail: v.analysis.detail } : {}),
      ...(time !== undefined ? { time } : {}),
      source: where,
    });
  });
  return { source, format: 'cyclonedx', statements, warnings };
}
