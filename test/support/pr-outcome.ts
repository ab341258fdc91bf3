// What a user sees after a proposal's run, checked the same way by every durability test: exactly
// one PR, open, which the proposal row names; at most one chart comment; the branch holds exactly
// the params change (and the PNG for a study with importance), read with native git; no error
// recorded; the repo lock free.
import { expect } from '@jest/globals';
import { lockStateQuery, repoLockWorkflowId } from '../../domain/lock-contracts.js';
import { git } from './git-cli.js';
import { OWNER, type OpenPrHarness } from './open-pr-harness.js';
import { PARAMS_PATH, type Seeded } from './open-pr-fixtures.js';
import { waitUntil } from './wait.js';

export interface PrOutcome {
  prs: number;
  comments: number;
}

export async function lockHolderOf(h: OpenPrHarness, configRepoId: string): Promise<string | null> {
  try {
    return (
      (await h.env.client.workflow.getHandle(repoLockWorkflowId(configRepoId)).query(lockStateQuery)).holder
        ?.workflowId ?? null
    );
  } catch {
    return null; // the lock workflow finished: nobody holds it
  }
}

export async function expectOnePrOpen(h: OpenPrHarness, s: Seeded, opts: { chart?: boolean } = {}): Promise<PrOutcome> {
  const branch = s.studyId === null ? `relyloop/proposal-${s.proposalId}` : `relyloop/study-${s.studyId}`;
  // Other proposals may share the repo: only this proposal's branch counts, in any state.
  const pulls = h.sandbox.pulls(OWNER, s.repoName).filter((p) => p.head.ref === branch);
  expect(pulls.map((p) => ({ state: p.state, head: p.head.ref }))).toEqual([{ state: 'open', head: branch }]);
  const pr = pulls[0] as (typeof pulls)[number];
  const row = await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: s.proposalId } });
  expect(row).toMatchObject({
    status: 'pr_opened',
    prNumber: pr.number,
    prBranch: branch,
    prState: 'open',
    prOpenError: null,
    prUrl: `${h.sandbox.origin}/${OWNER}/${s.repoName}/pull/${pr.number}`,
  });
  const comments = h.sandbox.comments(OWNER, s.repoName, pr.number);
  expect(comments.length).toBeLessThanOrEqual(1);
  const bare = h.sandbox.bareDir(OWNER, s.repoName);
  const chart = opts.chart ?? s.studyId !== null;
  const expectedFiles = chart ? [`.relyloop/digest-charts/${s.studyId}.png`, PARAMS_PATH] : [PARAMS_PATH];
  expect((await git(bare, 'diff', '--name-only', `main..${branch}`)).split('\n')).toEqual(expectedFiles);
  const changed = (await git(bare, 'diff', '-U0', `main..${branch}`, '--', PARAMS_PATH))
    .split('\n')
    .filter((l) => /^[-+]\s/.test(l));
  expect(changed.length).toBeGreaterThan(0);
  expect(await git(bare, 'rev-list', '--count', `main..${branch}`)).toBe('1');
  // The release signal reaches the lock right after the run closes.
  await waitUntil('the repo lock is free', async () => (await lockHolderOf(h, s.configRepoId)) === null, 10_000);
  return { prs: pulls.length, comments: comments.length };
}
