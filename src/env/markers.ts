// A lock's questions about the target interpreter (environment markers, requires-python), answered by
// that interpreter with its own pip's `packaging` (python/sealed_markers.py), as pip would answer them.

import { SealedError } from '../errors.js';
import { run } from '../util/exec.js';
import { pythonHelperPath } from '../util/paths.js';

export interface InterpreterAnswers {
  pythonFullVersion: string;
  /** Marker text -> whether it holds here; null: not a valid marker. */
  markers: ReadonlyMap<string, boolean | null>;
  /** Specifier set -> whether this interpreter's version is in it; null: not a valid specifier set. */
  specifiers: ReadonlyMap<string, boolean | null>;
}

const answer = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);

export async function askInterpreter(python: string, q: { markers: readonly string[]; specifiers: readonly string[] }, env: NodeJS.ProcessEnv): Promise<InterpreterAnswers> {
  let res;
  try {
    res = await run(python, ['-I', pythonHelperPath('sealed_markers.py')], { input: JSON.stringify(q), timeoutMs: 30_000, env });
  } catch (e) {
    throw new SealedError('PYTHON_MISSING', `Cannot run the Python interpreter ${python}: ${(e as Error).message}.`);
  }
  let doc: Record<string, unknown> | null = null;
  try {
    doc = res.code === 0 ? (JSON.parse(res.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>) : null;
  } catch {
    doc = null;
  }
  if (!doc || typeof doc.python_full_version !== 'string' || typeof doc.markers !== 'object' || typeof doc.specifiers !== 'object' || !doc.markers || !doc.specifiers) {
    throw new SealedError('PYTHON_MISSING', `${python} could not evaluate the lock's markers (exit ${res.code}): ${res.stderr.trim().slice(-400)}`, {
      hint: 'The target interpreter needs a working pip (python -m ensurepip installs one).',
    });
  }
  const markers = doc.markers as Record<string, unknown>;
  const specifiers = doc.specifiers as Record<string, unknown>;
  return {
    pythonFullVersion: doc.python_full_version,
    markers: new Map(q.markers.map((m) => [m, answer(markers[m])])),
    specifiers: new Map(q.specifiers.map((s) => [s, answer(specifiers[s])])),
  };
}
