// Identity of a source folder that did not come from an index: a digest over its files (path, kind,
// executable bit, content SHA-256 or link target), plus the git commit and dirty flag when it is a checkout.
// In a git checkout the files are the ones git would consider (tracked, and untracked but not ignored);
// elsewhere every file except version-control and build-output folders.

import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { DOMAINS, domainHash } from '../core/messages.js';
import { hashFile } from '../util/hash-file.js';
import { run } from '../util/exec.js';

const SKIP_DIRS = new Set(['.git', '.hg', '.svn', '__pycache__', '.tox', '.nox', '.venv', 'venv', 'build', 'dist', '.eggs', '.mypy_cache', '.pytest_cache', 'node_modules']);

export interface TreeIdentity {
  treeSha256: string;
  fileCount: number;
  git: { commit: string; dirty: boolean } | null;
}

type Entry = [path: string, kind: 'file' | 'link', content: string, executable: boolean];

export async function treeIdentity(root: string): Promise<TreeIdentity> {
  const git = await gitInfo(root);
  const files = git ? await gitFiles(root) : await walk(root, root);
  const entries: Entry[] = [];
  // Bounded concurrency keeps file handles in check on large trees.
  const queue = [...files].sort();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
        const abs = join(root, rel);
        const st = await lstat(abs).catch(() => null);
        if (!st) continue;
        if (st.isSymbolicLink()) entries.push([rel, 'link', await readlink(abs), false]);
        else if (st.isFile()) entries.push([rel, 'file', (await hashFile(abs)).sha256, (st.mode & 0o111) !== 0]);
      }
    }),
  );
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { treeSha256: domainHash(DOMAINS.sourceTree, { files: entries }), fileCount: entries.length, git };
}

async function walk(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    if (d.isDirectory()) {
      if (SKIP_DIRS.has(d.name) || d.name.endsWith('.egg-info')) continue;
      out.push(...(await walk(root, join(dir, d.name))));
    } else if (d.isFile() || d.isSymbolicLink()) {
      if (d.name.endsWith('.pyc')) continue;
      out.push(relative(root, join(dir, d.name)).split(sep).join('/'));
    }
  }
  return out;
}

async function gitInfo(root: string): Promise<{ commit: string; dirty: boolean } | null> {
  const head = await run('git', ['-C', root, 'rev-parse', '--show-toplevel', 'HEAD'], { timeoutMs: 10_000 }).catch(() => null);
  if (!head || head.code !== 0) return null;
  const [, commit] = head.stdout.trim().split('\n');
  if (!commit || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) return null;
  const status = await run('git', ['-C', root, 'status', '--porcelain', '--untracked-files=normal', '--', '.'], { timeoutMs: 30_000 });
  return { commit, dirty: status.code !== 0 || status.stdout.trim().length > 0 };
}

async function gitFiles(root: string): Promise<string[]> {
  const res = await run('git', ['-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '.'], { timeoutMs: 60_000, keepBytes: 256 << 20 });
  return res.stdout.split('\0').filter(Boolean);
}
