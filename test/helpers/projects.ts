// Fixture Python projects, one per real backend and failure mode, made fresh by the tests, and sdists
// of them (a tar.gz with one top-level folder and PKG-INFO, as every sdist has).

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { join, relative } from 'node:path';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** The hooks of the fixture backend that always fails: it prints, then raises. */
export const FAILING_BUILD_HOOKS = [
  'def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):',
  '    print("compiling the flux capacitor")',
  '    raise RuntimeError("the fixture backend always fails")',
  'def build_sdist(sdist_directory, config_settings=None):',
  '    raise RuntimeError("no sdist either")',
  '',
].join('\n');

export type Backend = 'setuptools' | 'flit' | 'hatchling' | 'setuptools-cext' | 'legacy' | 'failing' | 'no-backend';

export interface ProjectSpec {
  backend: Backend;
  name: string;
  version: string;
  dependencies?: string[];
}

const moduleOf = (name: string) => name.replace(/[-.]/g, '_').toLowerCase();

function deps(spec: ProjectSpec): string {
  return `dependencies = [${(spec.dependencies ?? []).map((d) => JSON.stringify(d)).join(', ')}]`;
}

export function writeProject(parent: string, spec: ProjectSpec): string {
  const dir = join(parent, `${spec.name}-${spec.version}`);
  const mod = moduleOf(spec.name);
  const files: Record<string, string> = {};
  const project = `[project]\nname = "${spec.name}"\nversion = "${spec.version}"\ndescription = "Sealed test fixture"\nrequires-python = ">=3.8"\n${deps(spec)}\n`;
  switch (spec.backend) {
    case 'setuptools':
      files['pyproject.toml'] = `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n${project}\n[tool.setuptools]\npackages = ["${mod}"]\n`;
      files[`${mod}/__init__.py`] = `VALUE = "${spec.name} ${spec.version}"\n`;
      break;
    case 'flit':
      files['pyproject.toml'] = `[build-system]\nrequires = ["flit_core>=3.4,<5"]\nbuild-backend = "flit_core.buildapi"\n\n${project}\n[tool.flit.module]\nname = "${mod}"\n`;
      files[`${mod}/__init__.py`] = `"""Sealed fixture built by flit-core."""\nVALUE = "${spec.name} ${spec.version}"\n`;
      break;
    case 'hatchling':
      files['pyproject.toml'] = `[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n${project}\n[tool.hatch.build.targets.wheel]\npackages = ["${mod}"]\n`;
      files[`${mod}/__init__.py`] = `VALUE = "${spec.name} ${spec.version}"\n`;
      break;
    case 'setuptools-cext':
      files['pyproject.toml'] = `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n${project}\n[tool.setuptools]\npackages = ["${mod}"]\n`;
      files['setup.py'] = `from setuptools import setup, Extension\nsetup(ext_modules=[Extension("${mod}._speed", ["src/speed.c"])])\n`;
      files[`${mod}/__init__.py`] = `from ._speed import add\nVALUE = "${spec.name} ${spec.version}"\n`;
      files['src/speed.c'] = [
        '#define PY_SSIZE_T_CLEAN',
        '#include <Python.h>',
        'static PyObject *add(PyObject *self, PyObject *args) { long a, b; if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL; return PyLong_FromLong(a + b); }',
        'static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "add two ints"}, {NULL, NULL, 0, NULL}};',
        'static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};',
        'PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&mod); }',
        '',
      ].join('\n');
      break;
    case 'legacy':
      files['setup.py'] = `from setuptools import setup\nsetup(name="${spec.name}", version="${spec.version}", packages=["${mod}"], install_requires=${JSON.stringify(spec.dependencies ?? [])})\n`;
      files[`${mod}/__init__.py`] = `VALUE = "${spec.name} ${spec.version}"\n`;
      break;
    case 'failing':
      files['pyproject.toml'] = `[build-system]\nrequires = []\nbuild-backend = "failing_backend"\nbackend-path = ["_backend"]\n\n${project}`;
      files['_backend/failing_backend.py'] = [
        'import os',
        'def get_requires_for_build_wheel(config_settings=None):',
        '    return []',
        '# Metadata works, so frontends can resolve; only the wheel build fails.',
        'def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):',
        `    d = os.path.join(metadata_directory, "${mod}-${spec.version}.dist-info")`,
        '    os.makedirs(d)',
        '    with open(os.path.join(d, "METADATA"), "w") as f:',
        `        f.write("Metadata-Version: 2.1\\nName: ${spec.name}\\nVersion: ${spec.version}\\n")`,
        `    return "${mod}-${spec.version}.dist-info"`,
        FAILING_BUILD_HOOKS,
      ].join('\n');
      break;
    case 'no-backend':
      files['pyproject.toml'] = `[build-system]\nrequires = []\nbuild-backend = "does_not_exist.backend"\n\n${project}`;
      break;
  }
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

function pkgInfo(spec: { name: string; version: string; dependencies?: string[] }): string {
  return [
    'Metadata-Version: 2.1',
    `Name: ${spec.name}`,
    `Version: ${spec.version}`,
    'Summary: Sealed test fixture',
    ...(spec.dependencies ?? []).map((d) => `Requires-Dist: ${d}`),
    '',
    '',
  ].join('\n');
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

/** A real-shaped sdist: `{name}-{version}/` with PKG-INFO and the project files, gzip-compressed tar. */
export async function makeSdist(projectDir: string, spec: ProjectSpec, outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const top = `${moduleOf(spec.name)}-${spec.version}`;
  const path = join(outDir, `${top}.tar.gz`);
  const pack = tar.pack();
  const done = pipeline(pack, createGzip(), createWriteStream(path));
  pack.entry({ name: `${top}/PKG-INFO`, mode: 0o644, mtime: new Date('2024-01-01T00:00:00Z') }, pkgInfo(spec));
  for (const file of listFiles(projectDir).sort()) {
    pack.entry({ name: `${top}/${relative(projectDir, file)}`, mode: 0o644, mtime: new Date('2024-01-01T00:00:00Z') }, readFileSync(file));
  }
  pack.finalize();
  await done;
  return path;
}

export async function fixtureSdist(parent: string, spec: ProjectSpec): Promise<string> {
  const dir = writeProject(join(parent, 'projects'), spec);
  return makeSdist(dir, spec, join(parent, 'sdists'));
}
