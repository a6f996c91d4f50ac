import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bypassesProxy, parseNoProxy, redactUrl } from '../../src/http/index.js';

describe('proxies and URLs', () => {
  it('matches NO_PROXY like curl and requests', () => {
    const np = parseNoProxy('localhost, .corp.example, example.com:8443, 10.0.0.0/8');
    const by = (u: string) => bypassesProxy(new URL(u), np);
    assert.equal(by('http://localhost/'), true);
    assert.equal(by('https://a.corp.example/'), true);
    assert.equal(by('https://corp.example/'), false);
    assert.equal(by('https://example.com:8443/'), true);
    assert.equal(by('https://sub.example.com:8443/'), true);
    assert.equal(by('https://example.com/'), false);
    assert.equal(by('http://10.2.3.4/'), true);
    assert.equal(by('http://11.2.3.4/'), false);
    assert.equal(bypassesProxy(new URL('https://x/'), parseNoProxy('*')), true);
  });
  it('redacts credentials', () => {
    assert.equal(redactUrl('https://u:p@host.example/simple/'), 'https://host.example/simple/');
  });
});

describe('NO_PROXY values that try to break the parser', () => {
  it('ignores empty entries, bad CIDR ranges and ports, and still matches what is valid', () => {
    const np = parseNoProxy(' , ,,10.0.0.0/99, 999.1.1.1/8, host.example:notaport, .ok.example ');
    assert.equal(bypassesProxy(new URL('http://10.1.1.1/'), np), false, 'a /99 range is no range');
    assert.equal(bypassesProxy(new URL('http://host.example/'), np), false, 'a port that is not a number is no rule for the host');
    assert.equal(bypassesProxy(new URL('http://a.ok.example/'), np), true);
  });
  it('does not let a suffix match a longer unrelated name', () => {
    const np = parseNoProxy('example.com');
    assert.equal(bypassesProxy(new URL('http://badexample.com/'), np), false);
    assert.equal(bypassesProxy(new URL('http://a.example.com/'), np), true);
  });
  it('redacts credentials even from a string that is not a URL', () => {
    assert.equal(redactUrl('not a url //user:pw@host/x'), 'not a url //host/x');
  });
});
