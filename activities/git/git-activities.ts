// Steps 5–11 of docs/architecture.md "The open-PR workflow" as activities on the worker-specific
// task queue: they share this worker's repo cache and the chart file rendered into its staging dir.
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chartFilePath } from '../../domain/branch-names.js';
import { createCommitMessage } from '../../domain/commit-message.js';
import { AppError } from '../../domain/errors.js';
import { isUuid } from '../../domain/paths.js';
import { tryApplyConfigDiff } from '../../domain/params-diff.js';
import { tryRenderChart } from '../chart/render-chart.js';
import type { GitHubPacer } from '../../domain/github-pacing.js';
import { createGitHubClient } from '../../adapters/github/github-client.js';
import type { GitHubLimiterOptions } from '../../adapters/github/octokit-client.js';
import { resolveRepoAccess, type RepoAccessDeps } from '../repo-access.js';
import { githubOptionsOf } from '../forge/forge-client.js';
import type { ChartOutcome, CommitChangeInput, ConfigRepoRef, GitActivities } from '../types.js';
import { tokenAuth, type CacheRef, type GitRepoCache, type RemoteRef } from '../../adapters/git/repo-cache.js';

export interface GitActivityDeps extends RepoAccessDeps {
  cache: GitRepoCache;
  /** For verified commits, built through GitHub's API: the token's pacing. */
  github: { pacer: GitHubPacer; limiter?: GitHubLimiterOptions };
  /** Where rendered charts wait for the commit step (inside the repo cache dir). */
  chartDir: string;
  /** Test seam: replaces the chart renderer to force a failure. */
  renderChart?: typeof tryRenderChart;
  /** Test seam: the clock of the chart sweep. */
  now?: () => number;
}

/** Charts are committed within minutes of rendering; a day-old one belongs to a finished run. */
export const CHART_MAX_AGE_MS = 24 * 3600_000;
/**
 * The chart dir is swept at most this often: each sweep stats every chart of the last day, which
 * done at every render grew with the day's proposals (2 ms a run after a few hundred).
 */
export const CHART_SWEEP_INTERVAL_MS = 10 * 60_000;

async function sweepOldCharts(dir: string, now: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && now - info.mtimeMs > CHART_MAX_AGE_MS) await rm(file, { force: true });
  }
}

export function createGitActivities(deps: GitActivityDeps): GitActivities {
  // Only the steps that reach the remote read the secret; the token stays inside onAuth.
  const remote = async (repo: ConfigRepoRef): Promise<RemoteRef> => {
    const { ref, token } = await resolveRepoAccess(deps, repo);
    return { configRepoId: repo.configRepoId, url: ref.gitUrl, baseBranch: repo.baseBranch, onAuth: tokenAuth(token) };
  };
  const local = (repo: ConfigRepoRef): CacheRef => ({ configRepoId: repo.configRepoId });
  /** Verified commits: GitHub builds and signs the commit, and creates the branch. */
  const signedByGitHub = (repo: ConfigRepoRef) => repo.prOptions.verifiedCommits === true && repo.app !== undefined;
  const githubFor = async (repo: ConfigRepoRef) =>
    createGitHubClient(
      githubOptionsOf(await resolveRepoAccess(deps, repo), { redactor: deps.redactor, ...deps.github }),
    );
  const chartPathFor = (proposalId: string) => {
    if (!isUuid(proposalId)) throw new AppError({ code: 'VALIDATION_ERROR', message: 'proposal id is not a uuid' });
    return path.join(deps.chartDir, `${proposalId}.png`);
  };
  const render = deps.renderChart ?? tryRenderChart;
  const now = deps.now ?? Date.now;
  let sweptAt = -Infinity;

  return {
    async syncRepoCache({ repo, branch }) {
      const { baseCommit, branchTip } = await deps.cache.sync(await remote(repo), { branch });
      return branchTip === undefined ? { baseCommit } : { baseCommit, branchTip };
    },

    async checkBranch({ repo, branch, proposalId }) {
      const tip = await deps.cache.readRemoteTip(await remote(repo), branch);
      if (tip === undefined) return {};
      if (tip.trailers.proposalId === proposalId) return { adoptCommit: tip.oid };
      throw new AppError({
        code: 'BRANCH_EXISTS',
        message: `branch ${branch} already exists on the remote with a commit that is not this proposal's; refusing to overwrite it`,
      });
    },

    async readParamsFile({ repo, baseCommit, configPath, templateName }) {
      const file = await deps.cache.readParamsFile(local(repo), { commit: baseCommit, configPath, templateName });
      return { path: file.path, text: file.text };
    },

    async applyConfigDiff({ paramsPath, text, diff, declaredParams }) {
      const result = tryApplyConfigDiff({ fileText: text, diff, declaredParams });
      if (!result.ok) throw new AppError({ code: result.code, message: `${paramsPath}: ${result.message}` });
      return { paramsPath, newText: result.text, changes: result.changes };
    },

    async renderChart({ proposalId, importance }): Promise<ChartOutcome> {
      const result = await render(importance);
      if (!result.ok) return { ok: false, reason: result.reason };
      const file = chartPathFor(proposalId);
      await mkdir(deps.chartDir, { recursive: true });
      if (now() - sweptAt >= CHART_SWEEP_INTERVAL_MS) {
        sweptAt = now();
        await sweepOldCharts(deps.chartDir, sweptAt);
      }
      await writeFile(file, result.png);
      return { ok: true, chartPath: file };
    },

    async renderChartPreview({ importance }) {
      const result = await render(importance);
      return result.ok ? { ok: true as const, pngBase64: result.png.toString('base64') } : result;
    },

    async commitChange({ repo, describe, baseCommit, change, chartPath }: CommitChangeInput) {
      const files: { path: string; content: Buffer }[] = [
        { path: change.paramsPath, content: Buffer.from(change.newText, 'utf8') },
      ];
      if (chartPath !== undefined && describe.study) {
        if (chartPath !== chartPathFor(describe.proposalId))
          throw new AppError({ code: 'VALIDATION_ERROR', message: 'unexpected chart path' });
        files.push({ path: chartFilePath(describe.study.id), content: await readFile(chartPath) });
      }
      const message = createCommitMessage({ ...describe, changedKeys: change.changes.map((c) => c.key) });
      if (signedByGitHub(repo)) {
        // The same files and message, built by GitHub on the same base: a commit it signs. A retried
        // attempt builds another (unreferenced) one; only the push step's ref makes one count.
        const base = await deps.cache.describeBase(local(repo), { baseCommit, paths: files.map((f) => f.path) });
        const commit = await (
          await githubFor(repo)
        ).createSignedCommit({
          baseTree: base.tree,
          parent: baseCommit,
          message,
          files: files.map((f) => ({ ...f, mode: base.modes[f.path] ?? '100644' })),
        });
        return { commit };
      }
      // The chart file stays until the next render sweeps it: a retried commit must still find it.
      return { commit: await deps.cache.createCommit(local(repo), { baseCommit, files, message }) };
    },

    async pushBranch({ repo, branch, commit, proposalId }) {
      if (signedByGitHub(repo)) {
        // Create-only, like the git push: an existing branch is never moved.
        const made = await (await githubFor(repo)).createBranchRef(branch, commit);
        if (made.created || made.tip === commit)
          return { outcome: made.created ? ('pushed' as const) : ('already-on-remote' as const) };
        const tip = await deps.cache.readRemoteTip(await remote(repo), branch);
        if (tip?.trailers.proposalId === proposalId) return { outcome: 'adopted' as const };
        throw new AppError({
          code: 'BRANCH_EXISTS',
          message: `branch ${branch} already exists on the remote (its tip is ${made.tip ?? tip?.oid ?? 'unknown'}); it is never overwritten`,
        });
      }
      const t = await remote(repo);
      try {
        return { outcome: await deps.cache.pushBranch(t, { branch, commit }) };
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'BRANCH_EXISTS')) throw error;
        // An abandoned attempt of this proposal (its worker presumed dead) may have pushed first.
        const tip = await deps.cache.readRemoteTip(t, branch);
        if (tip?.trailers.proposalId === proposalId) return { outcome: 'adopted' as const };
        throw error;
      }
    },
  };
}
