// python/sealed_pip.py works out pip's wheel tags once per process: every caller still gets pip's own
// list, a caller that changes its copy changes nothing for the next, and a call pip's memo cannot key
// (a list of platforms) goes to pip each time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

function runCheck(): Record<string, unknown> {
  const code = `
import json, sys
sys.argv = ["sealed_pip.py"]
sys.path.insert(0, ${JSON.stringify(join(repoRoot(), 'python'))})
from pip._internal.utils import compatibility_tags as ct
pips_own = ct.get_supported
calls = []
def counted(*args, **kwargs):
    calls.append(1)
    return pips_own(*args, **kwargs)
ct.get_supported = counted
import sealed_pip
expected = [str(t) for t in pips_own()]
sealed_pip.memoize_supported_tags()
from pip._internal.resolution.resolvelib import factory
from pip._internal.models import target_python
before = len(calls)
first = factory.get_supported()
first.clear()
again = [str(t) for t in ct.get_supported()]
memo_calls = len(calls) - before
def target_tags():
    target = target_python.TargetPython()  # a new one each time: pip keeps no tags of its own then
    return [str(t) for t in (getattr(target, "get_sorted_tags", None) or target.get_tags)()]
before = len(calls)
by_target = target_tags()
target_tags()
target_calls = len(calls) - before
listed = len(calls)
ct.get_supported(platforms=["linux_x86_64"])
ct.get_supported(platforms=["linux_x86_64"])
print(json.dumps({
    "replaced": factory.get_supported is ct.get_supported and ct.get_supported is not counted,
    "same": again == expected, "target_same": by_target == expected,
    "memo_calls": memo_calls, "target_calls": target_calls, "platform_calls": len(calls) - listed, "count": len(expected),
}))
`;
  const env = { ...process.env, PIP_CONFIG_FILE: '/dev/null' };
  return JSON.parse(execFileSync('python3', ['-c', code], { encoding: 'utf8', env }).trim().split('\n').pop()!) as Record<string, unknown>;
}

describe("sealed_pip.py's wheel tags", () => {
  it("hands out pip's own list, works it out once, and passes calls with a list of platforms through", () => {
    const r = runCheck();
    assert.equal(r.replaced, true, 'pip install reads the memoized function');
    assert.equal(r.same, true, 'the list is pip’s own, and a caller that cleared its copy changed nothing');
    assert.equal(r.target_same, true, 'the interpreter’s target tags are pip’s own');
    assert.ok((r.count as number) > 100, `a real tag list (${String(r.count)} tags)`);
    assert.equal(r.memo_calls, 0, 'two more calls, none of them to pip (worked out once, when memoized)');
    assert.equal(r.target_calls, 1, 'the same arguments twice: pip is asked once');
    assert.equal(r.platform_calls, 2, 'a list of platforms is not kept');
  });
});
