import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SOURCE_DATE_EPOCH, reproducibleSettings, settingsFromRecord, sourceDateEpoch } from '../../src/build/reproducible.js';

describe('reproducible build settings', () => {
  it('derive SOURCE_DATE_EPOCH from the newest sdist member and record where it came from', () => {
    const s = reproducibleSettings({ newestMtime: 1704067200, realRoot: '/home/a/.sealed/tmp/x-1', env: {}, treeModes: 'normalized' });
    assert.equal(s.env.SOURCE_DATE_EPOCH, '1704067200');
    assert.equal(s.record.source_date_epoch, 1704067200);
    assert.equal(s.record.source_date_epoch_from, 'sdist-newest-member');
    assert.equal(s.env.PYTHONHASHSEED, '0');
    assert.equal(s.umask, 0o022);
    assert.equal(s.record.umask, '0022');
  });

  it('give the same environment for two builders whose build folders differ, except the prefix map source', () => {
    const a = reproducibleSettings({ newestMtime: 1704067200, realRoot: '/home/a/.sealed/tmp/x-1', env: {}, treeModes: 'normalized' });
    const b = reproducibleSettings({ newestMtime: 1704067200, realRoot: '/srv/b/tmp/x-2', env: {}, treeModes: 'normalized' });
    assert.equal(a.env.CFLAGS, '-ffile-prefix-map=/home/a/.sealed/tmp/x-1=/build');
    assert.equal(b.env.CFLAGS, '-ffile-prefix-map=/srv/b/tmp/x-2=/build');
    assert.deepEqual(a.record, b.record, 'the record holds no machine-specific path');
    assert.ok(!JSON.stringify(a.record).includes('/home/a'));
  });

  it('keep the user\'s own CFLAGS after Sealed\'s, and sort the variables', () => {
    const s = reproducibleSettings({ newestMtime: null, realRoot: '/w', env: { CFLAGS: '-O2', CXXFLAGS: '' }, treeModes: 'as-found' });
    assert.equal(s.env.CFLAGS, '-ffile-prefix-map=/w=/build -O2');
    assert.equal(s.env.CXXFLAGS, '-ffile-prefix-map=/w=/build');
    assert.deepEqual(Object.keys(s.env), [...Object.keys(s.env)].sort());
  });

  it('use the zip epoch when the source has no time, and clamp times zip cannot store', () => {
    assert.equal(sourceDateEpoch(null), DEFAULT_SOURCE_DATE_EPOCH);
    assert.equal(sourceDateEpoch(0), 315532800);
    assert.equal(sourceDateEpoch(Number.NaN), DEFAULT_SOURCE_DATE_EPOCH);
    const s = reproducibleSettings({ newestMtime: null, realRoot: '/w', env: {}, treeModes: 'as-found' });
    assert.equal(s.record.source_date_epoch_from, 'default');
  });

  it('for a source folder, take the SOURCE_DATE_EPOCH the user set, but never over the sdist\'s own time', () => {
    const tree = reproducibleSettings({ newestMtime: null, realRoot: '/w', env: { SOURCE_DATE_EPOCH: '1700000000' }, treeModes: 'as-found' });
    assert.equal(tree.env.SOURCE_DATE_EPOCH, '1700000000');
    assert.equal(tree.record.source_date_epoch_from, 'environment');
    const again = settingsFromRecord(tree.record, '/x', {});
    assert.equal(again.env.SOURCE_DATE_EPOCH, '1700000000');
    const sdist = reproducibleSettings({ newestMtime: 1704067200, realRoot: '/w', env: { SOURCE_DATE_EPOCH: '1700000000' }, treeModes: 'normalized' });
    assert.equal(sdist.env.SOURCE_DATE_EPOCH, '1704067200');
    const junk = reproducibleSettings({ newestMtime: null, realRoot: '/w', env: { SOURCE_DATE_EPOCH: '17e8; rm -rf /' }, treeModes: 'as-found' });
    assert.equal(junk.record.source_date_epoch_from, 'default');
  });

  it('read back from a record, repeat the same choices', () => {
    const s = reproducibleSettings({ newestMtime: 1704067200, realRoot: '/a', env: {}, treeModes: 'normalized' });
    const again = settingsFromRecord(s.record, '/b', {});
    assert.deepEqual(again.record, s.record);
    assert.equal(again.env.SOURCE_DATE_EPOCH, s.env.SOURCE_DATE_EPOCH);
  });
});
