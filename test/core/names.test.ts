// The project a command-line requirement names: what `sealed install` looks up in the registry before pip
// has resolved (to decide whether a build is likely) and what pip left alone after.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { requirementProjectName } from '../../src/core/names.js';

describe('requirementProjectName', () => {
  it('when given a name with extras, a specifier or a marker, returns the normalized name alone', () => {
    assert.equal(requirementProjectName('rich'), 'rich');
    assert.equal(requirementProjectName('Typing_Extensions'), 'typing-extensions');
    assert.equal(requirementProjectName('rich[jupyter]>=13'), 'rich');
    assert.equal(requirementProjectName('  attrs==23.1.0 ; python_version >= "3.8"'), 'attrs');
    assert.equal(requirementProjectName('zope.interface~=6.0'), 'zope-interface');
  });

  it('when given a path, a local sdist or a wheel, returns null', () => {
    assert.equal(requirementProjectName('./vendor/pkg'), null);
    assert.equal(requirementProjectName('demo-1.0.tar.gz'), null);
    assert.equal(requirementProjectName('demo-1.0.zip'), null);
    assert.equal(requirementProjectName('demo-1.0-py3-none-any.whl'), null);
    assert.equal(requirementProjectName('-e'), null);
  });
});
