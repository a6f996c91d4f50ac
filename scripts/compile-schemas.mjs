#!/usr/bin/env node
// Build step: turns every schemas/*.schema.json into a precompiled ajv validator (dist/schemas/*.validate.cjs)
// so commands do not spend 100-200 ms compiling a schema at every start. Each file carries the SHA-256 of
// the schema it came from; src/core/schema.ts compiles at run time instead when they differ.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'schemas');
mkdirSync(out, { recursive: true });
for (const file of readdirSync(join(root, 'schemas')).filter((f) => f.endsWith('.schema.json'))) {
  const text = readFileSync(join(root, 'schemas', file), 'utf8');
  // The same options as src/core/schema.ts, plus code generation.
  const ajv = new (Ajv.default ?? Ajv)({ allErrors: true, strict: true, allowUnionTypes: true, code: { source: true } });
  const validate = ajv.compile(JSON.parse(text));
  const code = (standaloneCode.default ?? standaloneCode)(ajv, validate);
  const sha = createHash('sha256').update(text).digest('hex');
  writeFileSync(join(out, file.replace(/\.schema\.json$/, '.validate.cjs')), `${code}\nmodule.exports.schemaSha256 = ${JSON.stringify(sha)};\n`);
}
