// Test helper: puts a branch with one new commit on a sandbox repo through the git CLI over smart
// HTTP (the way a user's push would arrive), with the token only in a one-off `-c` header.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { GitHubSandbox } from './types.js';

const run = promisify(execFile);

export interface PushBranchOptions {
  owner: string;
  repo: string;
  token: string;
  branch: string;
  /** Branch to start from; the repo's default branch when omitted. */
  from?: string;
  /** Files to write (text) in the new commit; a marker file when omitted. */
  files?: Record<string, string>;
  message?: string;
}

/** Pushes `branch` with one commit on top of `from`; resolves with the new commit's sha. */
export async function pushBranch(sandbox: GitHubSandbox, opts: PushBranchOptions): Promise<string> {
  const work = await mkdtemp(path.join(tmpdir(), 'gh-sandbox-push-'));
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
  const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${opts.token}`).toString('base64')}`;
  const git = async (args: string[], cwd = work) => (await run('git', args, { cwd, env })).stdout.trim();
  try {
    const dir = path.join(work, 'clone');
    const from = opts.from === undefined ? [] : ['--branch', opts.from];
    await git(['-c', auth, 'clone', '--quiet', '--depth=1', ...from, sandbox.gitUrl(opts.owner, opts.repo), dir]);
    const files = opts.files ?? { [`.branch-${opts.branch.replace(/\//g, '-')}`]: `${opts.branch}\n` };
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    }
    await git(['add', '--all'], dir);
    await git(
      [
        '-c',
        'user.name=sandbox-test',
        '-c',
        'user.email=sandbox-test@example.com',
        'commit',
        '--quiet',
        '-m',
        opts.message ?? `Change on ${opts.branch}`,
      ],
      dir,
    );
    await git(['-c', auth, 'push', '--quiet', 'origin', `HEAD:refs/heads/${opts.branch}`], dir);
    return await git(['rev-parse', 'HEAD'], dir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
