// JSON Schema validation (ajv) for every document Sealed reads from outside: seals, exports.
// Collects every invalid path into one error, so a user sees all that is wrong at once.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject } from 'ajv';
import { SealedError, type ErrorCode } from '../errors.js';
import { packageRoot, schemaPath } from '../util/paths.js';
import { requireCommonJs } from '../util/require.js';

interface Validator {
  (value: unknown): boolean;
  errors?: ErrorObject[] | null;
}

const compiled = new Map<string, Validator>();

function validatorFor(file: string): Validator {
  let v = compiled.get(file);
  if (!v) {
    const text = readFileSync(schemaPath(file), 'utf8');
    v = precompiled(file, text) ?? compileNow(text);
    compiled.set(file, v);
  }
  return v;
}

// The build (scripts/compile-schemas.mjs) precompiles each schema; used only when made from this exact schema.
function precompiled(file: string, text: string): Validator | null {
  const path = join(packageRoot(), 'dist', 'schemas', file.replace(/\.schema\.json$/, '.validate.cjs'));
  if (!existsSync(path)) return null;
  const mod = requireCommonJs(path) as Validator & { schemaSha256?: string };
  return mod.schemaSha256 === createHash('sha256').update(text).digest('hex') ? mod : null;
}

function compileNow(text: string): Validator {
  const AjvModule = requireCommonJs('ajv') as { default: new (opts: object) => { compile(schema: unknown): Validator } };
  const ajv = new AjvModule.default({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv.compile(JSON.parse(text));
}

export function schemaErrors(file: string, value: unknown): string[] {
  const validate = validatorFor(file);
  if (validate(value)) return [];
  return summarize(validate.errors ?? []);
}

export function assertSchema(file: string, value: unknown, what: string, code: ErrorCode): void {
  const problems = schemaErrors(file, value);
  if (problems.length > 0) {
    throw new SealedError(code, `${what} does not match its schema (${file}): ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`, {
      step: 'schema',
      where: problems[0],
      problems,
    });
  }
}

// oneOf failures report every branch; keep the specific messages, each once.
function summarize(errors: ErrorObject[]): string[] {
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  const messages = new Set<string>();
  for (const e of specific.length > 0 ? specific : errors) {
    const path = e.instancePath || '/';
    const detail = e.keyword === 'additionalProperties' ? `unexpected property "${String(e.params.additionalProperty)}"` : e.message ?? 'invalid';
    messages.add(`${path} ${detail}`);
  }
  return [...messages];
}
