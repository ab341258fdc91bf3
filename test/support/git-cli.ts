// Reads a bare repository with the real git CLI (independent of isomorphic-git), for assertions,
// through the sandbox's isolated git runner.
import { assertGit, runGit } from '../../sandbox/git-cli.js';

export function git(bareDir: string, ...args: string[]): Promise<string> {
  return assertGit(['--git-dir', bareDir, ...args], { home: bareDir });
}

export async function tryRevParse(bareDir: string, ref: string): Promise<string | undefined> {
  const result = await runGit(['--git-dir', bareDir, 'rev-parse', '--verify', '--quiet', ref], { home: bareDir });
  return result.code === 0 ? result.stdout.toString('utf8').trim() : undefined;
}

/** A blob's raw bytes (`git cat-file blob`), for binary files such as the chart PNG. */
export async function gitBlob(bareDir: string, spec: string): Promise<Buffer> {
  const result = await runGit(['--git-dir', bareDir, 'cat-file', 'blob', spec], { home: bareDir });
  if (result.code !== 0) throw new Error(`git cat-file blob ${spec} failed: ${result.stderr.trim()}`);
  return result.stdout;
}
