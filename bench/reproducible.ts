// Issue 18, measured: the share of real PyPI packages whose wheels come out byte-identical from two
// independent Sealed builders (two homes, umasks 0022 and 0077, time zones UTC and Asia/Kathmandu, built
// one after the other), pure Python and C extensions counted apart, with `sealed compare`'s explanation of
// each that differs. Needs the network (PyPI). `node dist/bench/reproducible.js [pure:name==v | c:name==v ...]`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../test/helpers/cli.js';
import { runCliWithUmask } from '../test/reproducible/helpers.js';

const DEFAULT = [
  'pure:six==1.16.0',
  'pure:idna==3.7',
  'pure:packaging==24.0',
  'pure:tomli==2.0.1',
  'pure:attrs==23.2.0',
  'pure:iniconfig==2.0.0',
  'pure:pluggy==1.5.0',
  'pure:urllib3==2.2.1',
  'pure:typing_extensions==4.11.0',
  'pure:click==8.1.7',
  'pure:itsdangerous==2.2.0',
  'pure:certifi==2024.2.2',
  'pure:requests==2.31.0',
  'pure:python-dateutil==2.9.0.post0',
  'c:markupsafe==2.1.5',
  'c:simplejson==3.19.2',
  'c:wrapt==1.16.0',
  'c:msgpack==1.0.8',
  'c:ujson==5.9.0',
];
const list = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT;
const work = mkdtempSync(join(tmpdir(), 'sealed-bench-repro-'));
const env = { PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '' };
const builders = [
  { id: 'a', umask: '0022', env: { ...env, TZ: 'UTC' } },
  { id: 'b', umask: '0077', env: { ...env, TZ: 'Asia/Kathmandu' } },
];

interface Row {
  kind: string;
  req: string;
  identical: boolean | null;
  reason: string;
}
const rows: Row[] = [];
for (const item of list) {
  const [kind, req] = item.split(':') as [string, string];
  const seals: string[] = [];
  let failure = '';
  for (const b of builders) {
    const res = await runCliWithUmask(b.umask, ['--json', '--home', join(work, `home-${b.id}`), 'build', req, '--index-url', 'https://pypi.org/simple/', '-o', join(work, `out-${b.id}`)], b.env);
    if (res.status !== 0) {
      failure = `build failed: ${res.json?.error?.code ?? res.status} ${String(res.json?.error?.message ?? res.stderr).slice(0, 200)}`;
      break;
    }
    seals.push(res.json.seal);
  }
  if (failure) {
    rows.push({ kind, req, identical: null, reason: failure });
  } else {
    const cmp = await runCli(['--json', '--home', join(work, 'home-a'), 'compare', seals[0]!, seals[1]!]);
    const pair = cmp.json?.pairs?.[0];
    const identical = cmp.json?.same_artifact === true;
    rows.push({ kind, req, identical, reason: identical ? '' : (pair?.explanation ?? []).slice(2).join('; ') });
  }
  const r = rows[rows.length - 1]!;
  console.log(`${r.kind.padEnd(5)} ${r.req.padEnd(32)} ${r.identical === null ? 'FAILED' : r.identical ? 'identical' : 'DIFFERENT'} ${r.reason}`);
}
for (const kind of ['pure', 'c']) {
  const built = rows.filter((r) => r.kind === kind && r.identical !== null);
  const same = built.filter((r) => r.identical).length;
  console.log(`${kind}: ${same}/${built.length} identical${built.length ? ` (${Math.round((100 * same) / built.length)}%)` : ''}; ${rows.filter((r) => r.kind === kind && r.identical === null).length} did not build`);
}
writeFileSync(join(work, 'results.json'), JSON.stringify(rows, null, 2));
console.log(`results: ${join(work, 'results.json')}`);
