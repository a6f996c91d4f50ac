import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkChain, linkRecords, type RecordInput } from '../../src/chain/index.js';
import { DOMAINS, domainMessage } from '../../src/core/messages.js';

const records = [
  { type: 'package', body: { name: 'demo', version: '1.0', index_url: null } },
  { type: 'source', body: { kind: 'sdist', filename: 'demo-1.0.tar.gz', path: '/x', sha256: 'a'.repeat(64), size: 1 } },
  { type: 'environment', body: { any: 'thing' } },
  { type: 'build', body: { b: 1 } },
  { type: 'artifact', body: { filename: 'demo-1.0-py3-none-any.whl', sha256: 'b'.repeat(64), size: 2 } },
] as unknown as RecordInput[];

describe('the hash chain', () => {
  it('when records are linked, every link depends on all records before it', () => {
    const a = linkRecords(records);
    const changed = structuredClone(records);
    (changed[0]!.body as { version: string }).version = '1.1';
    const b = linkRecords(changed);
    for (let i = 0; i < records.length; i++) assert.notEqual(a.records[i]!.link, b.records[i]!.link);
    assert.equal(checkChain(a.records, a.chainHash).ok, true);
  });

  it('when a record body changes after linking, names that record', () => {
    const { records: linked, chainHash } = linkRecords(records);
    (linked[3]!.body as unknown as { b: number }).b = 2;
    const check = checkChain(linked, chainHash);
    assert.equal(check.ok, false);
    assert.equal(!check.ok && check.index, 3);
    assert.equal(!check.ok && check.reason, 'link');
  });

  it('when records are reordered or one is missing, reports the order', () => {
    const { records: linked, chainHash } = linkRecords(records);
    const swapped = [linked[1]!, linked[0]!, ...linked.slice(2)];
    const check = checkChain(swapped, chainHash);
    assert.equal(!check.ok && check.reason, 'order');
    const missing = checkChain(linked.slice(0, 4), linked[3]!.link);
    assert.equal(!missing.ok && missing.reason, 'order');
  });

  it('when the chain hash is not the last link, refuses', () => {
    const { records: linked } = linkRecords(records);
    const check = checkChain(linked, linked[2]!.link);
    assert.equal(!check.ok && check.reason, 'chain_hash');
  });

  it('when two domains hash the same payload, the messages differ', () => {
    assert.notDeepEqual(domainMessage(DOMAINS.recordLink, { a: 1 }), domainMessage(DOMAINS.sealSignature, { a: 1 }));
  });
});
