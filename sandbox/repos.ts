// Bare repositories of the sandbox, seeded with `git fast-import` (no working tree), so a
// 20,000-file fixture takes a second, and file modes cover symlinks, gitlinks and executables.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURE_IDENT, assertGit, runGit } from './git-cli.js';
import type { SandboxFile, SandboxFiles, TokenPermissions } from './types.js';

const NAME = /^[A-Za-z0-9._-]+$/;

export interface RepoRecord {
  owner: string;
  repo: string;
  defaultBranch: string;
  bareDir: string;
  /** Tokens that can see the repo, and what they may do. */
  access: Map<string, TokenPermissions>;
  /** When a push last reached the repo, and for how long the REST API lags behind it. */
  lastPushAt: number;
  consistencyLagMs: number;
  /** Users and team slugs reviews may be requested from (`addCollaborators`). */
  collaborators: Set<string>;
  teams: Set<string>;
}

export function assertRepoName(owner: string, repo: string): void {
  for (const part of [owner, repo]) {
    if (!NAME.test(part) || part === '.' || part === '..')
      throw new Error(`invalid sandbox repo name: ${owner}/${repo}`);
  }
}

interface Entry {
  mode: '100644' | '100755' | '120000' | '160000';
  content: Buffer | null; // null for a gitlink
  sha?: string;
}

function toEntry(file: SandboxFile): Entry {
  if (typeof file === 'string') return { mode: '100644', content: Buffer.from(file, 'utf8') };
  if (Buffer.isBuffer(file)) return { mode: '100644', content: file };
  if ('symlink' in file) return { mode: '120000', content: Buffer.from(file.symlink, 'utf8') };
  if ('submodule' in file) {
    if (!/^[0-9a-f]{40}$/.test(file.submodule)) throw new Error(`submodule sha must be 40 hex: ${file.submodule}`);
    return { mode: '160000', content: null, sha: file.submodule };
  }
  const data = file.executable;
  return { mode: '100755', content: typeof data === 'string' ? Buffer.from(data, 'utf8') : data };
}

function assertFilePath(p: string): void {
  const segments = p.split('/');
  if (p.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..' || s === '.git')) {
    throw new Error(`invalid sandbox file path: ${p}`);
  }
}

/** The fast-import stream of one root commit holding `files` on `branch`. */
export function fastImportStream(branch: string, files: Iterable<[string, SandboxFile]>, message: string): Buffer {
  const chunks: Buffer[] = [];
  const gitlinks: string[] = [];
  let hasGitmodules = false;
  const body: Buffer[] = [];
  for (const [p, file] of files) {
    assertFilePath(p);
    const entry = toEntry(file);
    if (p === '.gitmodules') hasGitmodules = true;
    if (entry.content === null) {
      gitlinks.push(p);
      body.push(Buffer.from(`M 160000 ${entry.sha} ${quotePath(p)}\n`));
    } else {
      body.push(
        Buffer.from(`M ${entry.mode} inline ${quotePath(p)}\ndata ${entry.content.length}\n`),
        entry.content,
        Buffer.from('\n'),
      );
    }
  }
  if (gitlinks.length > 0 && !hasGitmodules) {
    // A gitlink without .gitmodules is what a broken submodule looks like; give it a real one.
    const text = gitlinks
      .map((p) => `[submodule "${p}"]\n\tpath = ${p}\n\turl = ../${path.posix.basename(p)}.git\n`)
      .join('');
    body.push(Buffer.from(`M 100644 inline .gitmodules\ndata ${Buffer.byteLength(text)}\n${text}\n`));
  }
  const msg = Buffer.from(message, 'utf8');
  chunks.push(
    Buffer.from(`commit refs/heads/${branch}\ncommitter ${FIXTURE_IDENT}\ndata ${msg.length}\n`),
    msg,
    Buffer.from('\n'),
  );
  chunks.push(...body, Buffer.from('done\n'));
  return Buffer.concat(chunks);
}

function quotePath(p: string): string {
  return /[\s"\\]/.test(p) || /[^\x20-\x7e]/.test(p) ? JSON.stringify(p) : p;
}

/** Creates the bare repo (replacing one left at the same path) and imports `files` as its first commit. */
export async function createBareRepo(opts: {
  bareDir: string;
  home: string;
  branch: string;
  files: Iterable<[string, SandboxFile]>;
}): Promise<{ headSha: string }> {
  const { bareDir, home, branch } = opts;
  await rm(bareDir, { recursive: true, force: true });
  await mkdir(bareDir, { recursive: true });
  await assertGit(['init', '--quiet', '--bare', `--initial-branch=${branch}`, bareDir], { home });
  // Smart HTTP push is off by default in http-backend when the user is unauthenticated to it.
  await assertGit(['config', 'http.receivepack', 'true'], { cwd: bareDir, home });
  await assertGit(['config', 'uploadpack.allowFilter', 'true'], { cwd: bareDir, home });
  const stream = fastImportStream(branch, opts.files, 'Initial fixture commit\n');
  const imported = await runGit(['fast-import', '--quiet', '--done'], { cwd: bareDir, home, input: stream });
  if (imported.code !== 0) throw new Error(`git fast-import failed: ${imported.stderr.trim()}`);
  const headSha = await assertGit(['rev-parse', `refs/heads/${branch}`], { cwd: bareDir, home });
  return { headSha };
}

/** Deterministic generated content: `fileCount` small JSON files spread over nested dirs. */
export function* generatedFiles(fileCount: number, extra: SandboxFiles = {}): Generator<[string, SandboxFile]> {
  for (let i = 0; i < fileCount; i += 1) {
    const dir = `data/d${String(Math.floor(i / 1000)).padStart(3, '0')}/s${String(Math.floor(i / 100) % 10)}`;
    yield [`${dir}/file-${String(i).padStart(6, '0')}.json`, `{\n  "index": ${i},\n  "name": "generated-${i}"\n}\n`];
  }
  yield* Object.entries(extra);
}
