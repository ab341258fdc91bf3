// PR options of a config repo: how the PRs the service opens land — as drafts,
// labelled, with review requests and assignees — as create-pull-request, Renovate and Backstage
// offer. Pure: shared by the API, the activities and the workflow's history.
//   https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request (draft)
//   https://docs.github.com/en/rest/issues/labels#add-labels-to-an-issue
//   https://docs.github.com/en/rest/pulls/review-requests#request-reviewers-for-a-pull-request
//   https://docs.github.com/en/rest/issues/assignees#add-assignees-to-an-issue

export interface PrOptions {
  draft: boolean;
  labels: string[];
  reviewers: string[];
  teamReviewers: string[];
  assignees: string[];
  /**
   * Build the commit through GitHub's Git Data API so GitHub signs it (Verified), as
   * create-pull-request's `sign-commits` and Renovate's `platformCommit` do. GitHub App auth only.
   * Absent in runs loaded before the option existed.
   */
  verifiedCommits?: boolean;
  /**
   * When a PR opens, close the open PRs of the cluster's older proposals that edit the same params
   * file (the older proposals become `superseded`). Absent in runs loaded before the option
   * existed, which supersede nothing.
   */
  supersede?: boolean;
  /**
   * Merge the PR once its checks pass (GitHub's auto-merge or merge queue where the repository has
   * them, else the service's own durable wait); null or absent: the PR waits for a person.
   */
  merge?: MergeOption | null;
}

export const MERGE_METHODS = ['merge', 'squash', 'rebase'] as const;
export type MergeMethod = (typeof MERGE_METHODS)[number];

export interface MergeOption {
  when: 'checks_pass';
  method: MergeMethod;
}

export const NO_PR_OPTIONS: PrOptions = {
  draft: false,
  labels: [],
  reviewers: [],
  teamReviewers: [],
  assignees: [],
  verifiedCommits: false,
  supersede: false,
  merge: null,
};

/** GitHub's login rule: alphanumerics and single inner hyphens, at most 39 characters. */
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** A team's slug (its name lower-cased with hyphens), as the review-request API takes it. */
export const GITHUB_TEAM_SLUG = /^[a-z0-9](?:[a-z0-9_-]{0,98}[a-z0-9_])?$/;
/** GitHub's limits: a label name of 50 characters; 10 assignees per issue; 15 reviewers per request. */
export const PR_OPTION_LIMITS = { labelLength: 50, labels: 20, assignees: 10, reviewers: 15 } as const;

/** What of `wanted` is not in `present` (GitHub compares labels and logins case-insensitively). */
export function missingFrom(wanted: readonly string[], present: readonly string[]): string[] {
  const have = new Set(present.map((p) => p.toLowerCase()));
  return wanted.filter((w) => !have.has(w.toLowerCase()));
}
