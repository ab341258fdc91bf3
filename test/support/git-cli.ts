// Reads a bare repository with the real git CLI (independent of isomorphic-git), for assertions.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function git(bareDir: string, ...args: string[]): Promise<string> {
  const env = { PATH: process.env.PATH, HOME: bareDir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  return (await run('git', ['--git-dir', bareDir, ...args], { env, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
}

export async function tryRevParse(bareDir: string, ref: string): Promise<string | undefined> {
  return git(bareDir, 'rev-parse', '--verify', '--quiet', ref).catch(() => undefined);
}

/** A blob's raw bytes (`git cat-file blob`), for binary files such as the chart PNG. */
export async function gitBlob(bareDir: string, spec: string): Promise<Buffer> {
  const env = { PATH: process.env.PATH, HOME: bareDir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  return (await run('git', ['--git-dir', bareDir, 'cat-file', 'blob', spec], { env, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })).stdout;
}
