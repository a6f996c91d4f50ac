// JSON Schema validation (ajv) for every document Sealed reads from outside: seals, exports.
// Collects every invalid path into one error, so a user sees all that is wrong at once.

import { readFileSync } from 'node:fs';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import { SealedError, type ErrorCode } from '../errors.js';
import { schemaPath } from '../util/paths.js';

const Ajv = AjvModule.default ?? (AjvModule as unknown as typeof AjvModule.default);
const compiled = new Map<string, ValidateFunction>();

function validatorFor(file: string): ValidateFunction {
  let v = compiled.get(file);
  if (!v) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    v = ajv.compile(JSON.parse(readFileSync(schemaPath(file), 'utf8')));
    compiled.set(file, v);
  }
  return v;
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

// oneOf failures report every branch; keep the deepest, most specific messages.
function summarize(errors: ErrorObject[]): string[] {
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  const deepest = new Map<string, string>();
  for (const e of specific.length > 0 ? specific : errors) {
    const path = e.instancePath || '/';
    const detail = e.keyword === 'additionalProperties' ? `unexpected property "${String(e.params.additionalProperty)}"` : e.message ?? 'invalid';
    if (!deepest.has(path)) deepest.set(path, `${path} ${detail}`);
  }
  return [...deepest.values()];
}
