// Seeds a config repo in the GitHub sandbox and the matching rows through the HTTP API, the way
// RelyLoop would: config repo → cluster (+ config_path) → template → study → proposal.
import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import type { SandboxFiles } from '../../sandbox/index.js';
import { GH_TOKEN, OWNER, type OpenPrHarness } from './open-pr-harness.js';

export const PARAMS_PATH = 'clusters/prod/search.params.json';

export const PARAMS_TEXT = `{
  "field_boosts.title": 2.0,
  "field_boosts.body": 1.0,
  "bm25.k1": 1.2,
  "fuzziness": "AUTO"
}
`;

/** The branch a seeded proposal's PR is opened from. */
export const branchOf = (s: Pick<Seeded, 'studyId' | 'proposalId'>) =>
  s.studyId === null ? `relyloop/proposal-${s.proposalId}` : `relyloop/study-${s.studyId}`;

export interface Seeded {
  repoName: string;
  configRepoId: string;
  clusterId: string;
  templateId: string;
  studyId: string | null;
  proposalId: string;
}

export interface SeedOptions {
  study?: boolean;
  importance?: Record<string, number> | null;
  diff?: Record<string, { from: unknown; to: unknown }>;
  declaredParams?: string[];
  files?: SandboxFiles;
  authRef?: string;
  /** The token the sandbox repo is created for (default GH_TOKEN; match it with `authRef`). */
  token?: string;
  /** Reuse an existing config repo (several proposals on one repo). */
  reuse?: Seeded;
  /**
   * The repo's `supersede` PR option (default off here: tests of one proposal's run on a shared
   * repo keep each PR open side by side; the product's default, on, is tested in supersede.e2e).
   */
  supersede?: boolean;
}

const ok = (res: { status: number; body: unknown }, status: number) => {
  expect({ status: res.status, body: res.body }).toEqual({ status, body: expect.anything() });
  return res.body as { id: string };
};

export async function seedProposal(h: OpenPrHarness, opts: SeedOptions = {}): Promise<Seeded> {
  const diff = opts.diff ?? { 'field_boosts.title': { from: 2.0, to: 4.5 }, 'bm25.k1': { from: 1.2, to: 1.35 } };
  let base: Omit<Seeded, 'studyId' | 'proposalId'>;
  if (opts.reuse) {
    base = opts.reuse;
  } else {
    const repoName = `cfg-${randomUUID().slice(0, 8)}`;
    await h.sandbox.createRepo({
      owner: OWNER,
      repo: repoName,
      token: opts.token ?? GH_TOKEN,
      files: opts.files ?? { [PARAMS_PATH]: PARAMS_TEXT, 'README.md': '# search config\n' },
    });
    const repo = ok(
      await h.api('POST', '/config-repos', {
        name: repoName,
        repo_url: h.sandbox.repoUrl(OWNER, repoName),
        auth_ref: opts.authRef ?? 'gh_acme',
        pr_options: { supersede: opts.supersede ?? false },
      }),
      201,
    );
    const cluster = ok(await h.api('POST', '/clusters', { name: `prod-${repoName}` }), 201);
    ok(await h.api('PATCH', `/clusters/${cluster.id}`, { config_repo_id: repo.id, config_path: 'clusters/prod' }), 200);
    const template = ok(
      await h.api('POST', '/templates', {
        cluster_id: cluster.id,
        name: 'search',
        declared_params: opts.declaredParams ?? ['field_boosts.title', 'field_boosts.body', 'bm25.k1', 'fuzziness'],
      }),
      201,
    );
    base = { repoName, configRepoId: repo.id, clusterId: cluster.id, templateId: template.id };
  }
  let studyId: string | null = null;
  if (opts.study ?? true) {
    const study = ok(
      await h.api('POST', '/studies', {
        name: `Boost title ${randomUUID().slice(0, 4)}`,
        cluster_id: base.clusterId,
        template_id: base.templateId,
        metric: 'ndcg@10',
        baseline_metric: 0.412,
        best_metric: 0.468,
        parameter_importance:
          opts.importance === undefined
            ? { 'field_boosts.title': 0.61, 'bm25.k1': 0.27, 'field_boosts.body': 0.12 }
            : opts.importance,
        suggested_followups: ['Try fuzziness 1 on short queries', 'Re-run with ndcg@20'],
      }),
      201,
    );
    studyId = study.id;
  }
  const proposal = ok(
    await h.api('POST', '/proposals', {
      cluster_id: base.clusterId,
      template_id: base.templateId,
      study_id: studyId,
      config_diff: diff,
    }),
    201,
  );
  return { ...base, studyId, proposalId: proposal.id };
}
