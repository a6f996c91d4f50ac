// `--python` (or SEALED_PYTHON) naming a folder or a file that cannot be run: said in words, with the
// likely interpreter, before anything spawns it (spawn would only say EACCES).

import { accessSync, constants, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SealedError } from '../errors.js';

export function checkPythonPath(command: string, cwd: string): void {
  if (!command.includes('/')) return; // a name on PATH: the probe says when it is missing
  const path = resolve(cwd, command);
  const st = (() => {
    try {
      return statSync(path);
    } catch {
      return null;
    }
  })();
  if (!st) return; // missing: the probe's PYTHON_MISSING says so
  if (st.isDirectory()) {
    const inside = ['bin/python', 'bin/python3'].map((p) => join(path, p)).find((p) => {
      try {
        accessSync(p, constants.X_OK);
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
    throw new SealedError('USAGE', `--python ${command} is a folder, not a Python interpreter.`, {
      where: path,
      hint: inside ? `Did you mean ${inside} (the interpreter of the environment in that folder)?` : 'Name the interpreter file itself, e.g. /usr/bin/python3 or a virtual environment\'s bin/python.',
    });
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new SealedError('USAGE', `--python ${command} is not executable.`, { where: path, hint: 'Name a Python interpreter (e.g. /usr/bin/python3), or make this one executable.' });
  }
}
