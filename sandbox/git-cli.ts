// Runs the git CLI for the sandbox with an environment isolated from the host: no system or
// global config, HOME in the sandbox root, fixed identity and dates so fixture SHAs are stable.
import { spawn } from 'node:child_process';

export const FIXTURE_IDENT = 'relyloop-fixture <fixture@example.com> 1700000000 +0000';

export interface GitRunOptions {
  cwd?: string;
  /** HOME for git (a dir inside the sandbox root). */
  home: string;
  input?: string | Buffer;
  extraEnv?: Record<string, string>;
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function isolatedGitEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'relyloop-fixture',
    GIT_AUTHOR_EMAIL: 'fixture@example.com',
    GIT_AUTHOR_DATE: '1700000000 +0000',
    GIT_COMMITTER_NAME: 'relyloop-fixture',
    GIT_COMMITTER_EMAIL: 'fixture@example.com',
    GIT_COMMITTER_DATE: '1700000000 +0000',
    ...extra,
  };
}

/** Runs git and resolves with its exit code; never rejects on a non-zero exit. */
export function runGit(args: string[], opts: GitRunOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: opts.cwd, env: isolatedGitEnv(opts.home, opts.extraEnv) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.on('error', () => undefined); // git may exit before reading all input
    child.stdin.end(opts.input ?? '');
  });
}

/** Like runGit but throws with stderr on failure; returns trimmed stdout. */
export async function assertGit(args: string[], opts: GitRunOptions): Promise<string> {
  const result = await runGit(args, opts);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout.toString('utf8').trim();
}
