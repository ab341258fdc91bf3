// GitHub's Git Data API in the sandbox: blobs, trees, commits and refs written as real
// objects into the bare repository, the way create-pull-request's `sign-commits` and Renovate's
// `platformCommit` build a commit that GitHub signs. A commit created without an author or
// committer is GitHub's own: authored by the token's user (an App's `{slug}[bot]`) and marked
// verified; one that names an author is not signed.
//   https://docs.github.com/en/rest/git/blobs  · /git/trees · /git/commits · /git/refs
//   https://docs.github.com/en/authentication/managing-commit-signature-verification/about-commit-signature-verification#signature-verification-for-bots
import type { SandboxClock } from './clock.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runGit } from './git-cli.js';
import type { RepoRecord } from './repos.js';
import { DOCS, validationFailed } from './rest-json.js';

export interface GitDataAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const SHA = /^[0-9a-f]{40}$/;
const MODES = new Set(['100644', '100755', '040000', '160000', '120000']);

export class GitData {
  /** Commits GitHub would show as Verified, per repo (`owner/repo` → shas). */
  private readonly verified = new Map<string, Set<string>>();

  constructor(
    private readonly home: string,
    private readonly clock: SandboxClock,
  ) {}

  isVerified(repo: RepoRecord, sha: string): boolean {
    return this.verified.get(`${repo.owner}/${repo.repo}`)?.has(sha) === true;
  }

  private git(repo: RepoRecord, args: string[], input?: string | Buffer, extraEnv?: Record<string, string>) {
    return runGit(args, { cwd: repo.bareDir, home: this.home, input, extraEnv });
  }

  async createBlob(repo: RepoRecord, json: Record<string, unknown>, api: string): Promise<GitDataAnswer> {
    const encoding = json.encoding === 'base64' ? 'base64' : 'utf-8';
    const content = Buffer.from(String(json.content), encoding === 'base64' ? 'base64' : 'utf8');
    const result = await this.git(repo, ['hash-object', '-w', '--stdin'], content);
    if (result.code !== 0) throw new Error(`git hash-object failed: ${result.stderr}`);
    const sha = result.stdout.toString().trim();
    return { status: 201, body: { sha, url: `${api}/repos/${repo.owner}/${repo.repo}/git/blobs/${sha}` } };
  }

  /** A tree from `base_tree` with entries added, replaced or (sha null) removed, paths may nest. */
  async createTree(repo: RepoRecord, json: Record<string, unknown>, api: string): Promise<GitDataAnswer> {
    const docs = `${DOCS}/git/trees#create-a-tree`;
    const entries = Array.isArray(json.tree)
      ? (json.tree as { path?: unknown; mode?: unknown; sha?: unknown; content?: unknown }[])
      : [];
    const index = await mkdtemp(path.join(tmpdir(), 'gh-sandbox-index-'));
    const env = { GIT_INDEX_FILE: path.join(index, 'index') };
    try {
      if (typeof json.base_tree === 'string') {
        const read = await this.git(repo, ['read-tree', json.base_tree], undefined, env);
        if (read.code !== 0)
          return {
            status: 422,
            body: validationFailed(docs, [{ resource: 'Tree', field: 'base_tree', code: 'invalid' }]),
          };
      }
      for (const e of entries) {
        const p = String(e.path);
        if (
          !MODES.has(String(e.mode)) ||
          p.startsWith('/') ||
          p.split('/').some((s) => s === '' || s === '.' || s === '..')
        ) {
          return { status: 422, body: validationFailed(docs, [{ resource: 'Tree', field: 'tree', code: 'invalid' }]) };
        }
        let sha = typeof e.sha === 'string' ? e.sha : null;
        if (typeof e.content === 'string')
          sha = ((await this.createBlob(repo, { content: e.content }, api)).body as { sha: string }).sha;
        const update =
          sha === null
            ? await this.git(repo, ['update-index', '--force-remove', '--', p], undefined, env)
            : SHA.test(sha)
              ? await this.git(
                  repo,
                  ['update-index', '--add', '--cacheinfo', `${String(e.mode)},${sha},${p}`],
                  undefined,
                  env,
                )
              : { code: 1, stderr: 'bad sha' };
        if (update.code !== 0)
          return {
            status: 422,
            body: validationFailed(docs, [{ resource: 'Tree', field: 'tree.sha', code: 'invalid' }]),
          };
      }
      const written = await this.git(repo, ['write-tree', '--missing-ok'], undefined, env);
      if (written.code !== 0)
        return {
          status: 422,
          body: {
            message: `tree.sha is not a valid blob: ${written.stderr.trim()}`,
            documentation_url: docs,
            status: '422',
          },
        };
      const sha = written.stdout.toString().trim();
      return {
        status: 201,
        body: { sha, url: `${api}/repos/${repo.owner}/${repo.repo}/git/trees/${sha}`, tree: [], truncated: false },
      };
    } finally {
      await rm(index, { recursive: true, force: true });
    }
  }

  /**
   * A commit; without author and committer it is the token user's, signed by GitHub (verified).
   * `user` is who the token belongs to (`{slug}[bot]` for an App installation).
   */
  async createCommit(
    repo: RepoRecord,
    json: Record<string, unknown>,
    api: string,
    user: { name: string; email: string },
  ): Promise<GitDataAnswer> {
    const docs = `${DOCS}/git/commits#create-a-commit`;
    const tree = String(json.tree);
    const parents = Array.isArray(json.parents) ? json.parents.map(String) : [];
    for (const sha of [tree, ...parents]) {
      const type = await this.git(repo, ['cat-file', '-t', sha]);
      if (!SHA.test(sha) || type.code !== 0)
        return {
          status: 422,
          body: validationFailed(docs, [
            { resource: 'Commit', field: sha === tree ? 'tree' : 'parents', code: 'invalid' },
          ]),
        };
    }
    const author = json.author as { name?: string; email?: string } | undefined;
    const committer = (json.committer as { name?: string; email?: string } | undefined) ?? author;
    const signed = author === undefined && committer === undefined;
    const date = `${Math.floor(this.clock.now() / 1000)} +0000`;
    const env = {
      GIT_AUTHOR_NAME: author?.name ?? user.name,
      GIT_AUTHOR_EMAIL: author?.email ?? user.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: signed ? 'GitHub' : (committer?.name ?? user.name),
      GIT_COMMITTER_EMAIL: signed ? 'noreply@github.com' : (committer?.email ?? user.email),
      GIT_COMMITTER_DATE: date,
    };
    const result = await this.git(
      repo,
      ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p])],
      String(json.message),
      env,
    );
    if (result.code !== 0) throw new Error(`git commit-tree failed: ${result.stderr}`);
    const sha = result.stdout.toString().trim();
    if (signed) {
      const key = `${repo.owner}/${repo.repo}`;
      this.verified.set(key, (this.verified.get(key) ?? new Set()).add(sha));
    }
    return { status: 201, body: this.commitJson(repo, sha, String(json.message), tree, parents, env, api) };
  }

  async getCommit(repo: RepoRecord, sha: string, api: string): Promise<GitDataAnswer> {
    const shown = await this.git(repo, ['show', '-s', '--format=%T%n%P%n%an%n%ae%n%cn%n%ce%n%B', sha]);
    if (!SHA.test(sha) || shown.code !== 0)
      return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
    const [tree = '', parentLine = '', an = '', ae = '', cn = '', ce = '', ...message] = shown.stdout
      .toString()
      .split('\n');
    const env = {
      GIT_AUTHOR_NAME: an,
      GIT_AUTHOR_EMAIL: ae,
      GIT_COMMITTER_NAME: cn,
      GIT_COMMITTER_EMAIL: ce,
      GIT_AUTHOR_DATE: '',
      GIT_COMMITTER_DATE: '',
    };
    return {
      status: 200,
      body: this.commitJson(
        repo,
        sha,
        message.join('\n').replace(/\n+$/, '\n'),
        tree,
        parentLine.split(' ').filter(Boolean),
        env,
        api,
      ),
    };
  }

  /** POST …/git/refs: create only — an existing ref is 422 "Reference already exists". */
  async createRef(repo: RepoRecord, json: Record<string, unknown>, api: string): Promise<GitDataAnswer> {
    const docs = `${DOCS}/git/refs#create-a-reference`;
    const ref = String(json.ref);
    const sha = String(json.sha);
    if (!/^refs\/(heads|tags)\/[^\s~^:?*[\\]+$/.test(ref) || ref.includes('..'))
      return {
        status: 422,
        body: { message: `${ref} is not a valid ref name.`, documentation_url: docs, status: '422' },
      };
    if ((await this.git(repo, ['cat-file', '-e', `${sha}^{commit}`])).code !== 0)
      return { status: 422, body: { message: 'Object does not exist', documentation_url: docs, status: '422' } };
    const created = await this.git(repo, ['update-ref', ref, sha, '0000000000000000000000000000000000000000']);
    if (created.code !== 0)
      return { status: 422, body: { message: 'Reference already exists', documentation_url: docs, status: '422' } };
    repo.lastPushAt = this.clock.now();
    return {
      status: 201,
      body: refJson(repo, ref, sha, api),
      headers: { location: `${api}/repos/${repo.owner}/${repo.repo}/git/${ref}` },
    };
  }

  async getRef(repo: RepoRecord, ref: string, api: string): Promise<GitDataAnswer> {
    const result = await this.git(repo, ['rev-parse', '--verify', '--quiet', `refs/${ref}`]);
    if (result.code !== 0)
      return {
        status: 404,
        body: { message: 'Not Found', documentation_url: `${DOCS}/git/refs#get-a-reference`, status: '404' },
      };
    return { status: 200, body: refJson(repo, `refs/${ref}`, result.stdout.toString().trim(), api) };
  }

  private commitJson(
    repo: RepoRecord,
    sha: string,
    message: string,
    tree: string,
    parents: string[],
    env: Record<string, string>,
    api: string,
  ): Record<string, unknown> {
    const base = `${api}/repos/${repo.owner}/${repo.repo}/git`;
    const person = (name: string, email: string) => ({
      name,
      email,
      date: this.clock.iso(),
    });
    const verified = this.isVerified(repo, sha);
    return {
      sha,
      node_id: `C_${sha.slice(0, 12)}`,
      url: `${base}/commits/${sha}`,
      html_url: `${api}/${repo.owner}/${repo.repo}/commit/${sha}`,
      author: person(env.GIT_AUTHOR_NAME ?? '', env.GIT_AUTHOR_EMAIL ?? ''),
      committer: person(env.GIT_COMMITTER_NAME ?? '', env.GIT_COMMITTER_EMAIL ?? ''),
      message,
      tree: { sha: tree, url: `${base}/trees/${tree}` },
      parents: parents.map((p) => ({ sha: p, url: `${base}/commits/${p}`, html_url: `${api}/commit/${p}` })),
      verification: {
        verified,
        reason: verified ? 'valid' : 'unsigned',
        signature: verified ? '-----BEGIN PGP SIGNATURE-----\nsandbox\n-----END PGP SIGNATURE-----' : null,
        payload: verified ? `tree ${tree}` : null,
        verified_at: verified ? this.clock.iso() : null,
      },
    };
  }
}

function refJson(repo: RepoRecord, ref: string, sha: string, api: string): Record<string, unknown> {
  return {
    ref,
    node_id: `REF_${sha.slice(0, 8)}`,
    url: `${api}/repos/${repo.owner}/${repo.repo}/git/${ref}`,
    object: { type: 'commit', sha, url: `${api}/repos/${repo.owner}/${repo.repo}/git/commits/${sha}` },
  };
}
