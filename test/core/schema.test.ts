import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaErrors } from '../../src/core/schema.js';
import { repoRoot } from '../helpers/paths.js';

const require = createRequire(import.meta.url);

describe('schema validation', () => {
  it('when the build precompiled a schema, the precompiled validator matches the schema file it came from', () => {
    for (const name of ['seal.v1', 'export.v1']) {
      const mod = require(join(repoRoot(), 'dist', 'schemas', `${name}.validate.cjs`)) as { schemaSha256: string };
      const { createHash } = require('node:crypto') as typeof import('node:crypto');
      const text = readFileSync(join(repoRoot(), 'schemas', `${name}.schema.json`), 'utf8');
      assert.equal(mod.schemaSha256, createHash('sha256').update(text).digest('hex'));
    }
  });

  it('when a document breaks several rules, reports every invalid path at once', () => {
    const problems = schemaErrors('seal.v1.schema.json', { format: 'other', version: 2, records: [], chain_hash: 'x', extra: 1 });
    for (const path of ['/format', '/version', '/records', '/chain_hash']) assert.ok(problems.some((p) => p.startsWith(path)), `${path} reported`);
    assert.ok(problems.some((p) => p.includes('unexpected property "extra"')));
    assert.ok(problems.some((p) => p.includes('signature')));
  });
});
