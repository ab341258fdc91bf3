// Reconciliation of PR states (docs/architecture.md "PR lifecycle"): what a missed webhook left behind. For
// one config repo, every proposal whose PR state may still change — recorded `open`, or `closed`
// within the window (a closed PR can be reopened; a merge is final) — is read back from its forge
// (GitHub or Gitea: GET /repos/{o}/{r}/pulls/{n}, one at a time with the repo's own token, so its rate limits and
// the process's throttling apply; conditional on the last read's ETag, so an unchanged PR costs a
// 304 and no primary rate limit) and the current state is applied like a webhook would be — the
// same conditional update, which never moves a state backwards (db/pr-lifecycle.ts).
// Progress is heartbeated (the last proposal id done), so a retried attempt resumes where the
// abandoned one stopped instead of reading every PR again.
import { findConfigRepo, repoRefOf } from '../../db/config-repos.js';
import type { Database } from '../../db/database.js';
import {
  applyPrObservation,
  countClosedBeyondWindow,
  listReposToReconcile,
  listUnsettledPrs,
  pruneWebhookDeliveries,
  recordPrEtag,
} from '../../db/pr-lifecycle.js';
import { observationOf } from '../../domain/pr-lifecycle.js';
import { tryCurrentContext } from '../../runtime/activity-context.js';
import { forgeClientFor, type ForgeClientDeps } from './forge-client.js';
import type { ReconcileActivities, ReconcileRepoResult } from '../types.js';

/** Proposals read from the database at a time. */
const PAGE = 50;
/** Corrections listed in a result (all are counted and logged); keeps histories small. */
const MAX_LISTED_CORRECTIONS = 100;
/** The delivery log keeps a month (GitHub itself redelivers for 3 days). */
export const WEBHOOK_DELIVERY_RETENTION_DAYS = 30;

export interface ReconcileActivityDeps extends ForgeClientDeps {
  db: Database;
  /** How long a PR recorded closed is still read back (RELYLOOP_RECONCILE_CLOSED_WINDOW). */
  closedWindowMs: number;
}

interface Progress {
  after: string | null;
  result: ReconcileRepoResult;
}

export function createReconcileActivities(deps: ReconcileActivityDeps): ReconcileActivities {
  return {
    listReposToReconcile: () => listReposToReconcile(deps.db, deps.closedWindowMs),

    pruneWebhookDeliveries: () => pruneWebhookDeliveries(deps.db, WEBHOOK_DELIVERY_RETENTION_DAYS),

    async reconcileRepoPrs({ configRepoId, proposalId }) {
      const context = tryCurrentContext();
      const resumed = context?.info.heartbeatDetails as Progress | undefined;
      const result: ReconcileRepoResult = resumed?.result ?? {
        checked: 0,
        unchanged: 0,
        corrected: 0,
        missing: 0,
        skipped: 0,
        corrections: [],
      };
      let after = resumed?.after ?? null;
      const row = await findConfigRepo(deps.db, configRepoId);
      if (row === undefined) return result; // deleted meanwhile: nothing of it to reconcile
      if (resumed === undefined && proposalId === undefined)
        result.skipped = await countClosedBeyondWindow(deps.db, configRepoId, deps.closedWindowMs);
      const { pulls: gh } = await forgeClientFor(deps, repoRefOf(row));
      for (;;) {
        const page = await listUnsettledPrs(deps.db, {
          configRepoId,
          after,
          limit: PAGE,
          closedWindowMs: deps.closedWindowMs,
          ...(proposalId === undefined ? {} : { proposalId }),
        });
        for (const recorded of page) {
          const pull = await gh.getPullRequest(recorded.prNumber, recorded.etag);
          result.checked += 1;
          if (pull === 'not_modified') {
            // Unchanged since the last read, whose state was applied then.
            result.unchanged += 1;
          } else if (pull === null || pull.head.ref !== recorded.branch) {
            // The number is not (or no longer) this proposal's PR: nothing to apply, an operator to tell.
            result.missing += 1;
            context?.log.warn("a proposal's recorded PR is not on GitHub with its branch", {
              proposalId: recorded.proposalId,
              prNumber: recorded.prNumber,
              branch: recorded.branch,
              found: pull?.head.ref ?? null,
            });
          } else {
            const observation = observationOf(pull);
            const applied = await applyPrObservation(deps.db, {
              configRepoIds: [configRepoId],
              observation,
              source: 'reconcile',
            });
            await recordPrEtag(deps.db, recorded.proposalId, pull.etag);
            if (applied.outcome === 'applied' && applied.previous !== observation.state) {
              result.corrected += 1;
              if (result.corrections.length < MAX_LISTED_CORRECTIONS)
                result.corrections.push({
                  proposalId: recorded.proposalId,
                  prNumber: recorded.prNumber,
                  from: applied.previous,
                  to: observation.state,
                });
              context?.log.info('reconciliation corrected a PR state a webhook missed', {
                proposalId: recorded.proposalId,
                prNumber: recorded.prNumber,
                from: applied.previous,
                to: observation.state,
              });
            }
          }
          after = recorded.proposalId;
          context?.heartbeat({ after, result } satisfies Progress);
        }
        if (page.length < PAGE) return result;
      }
    },
  };
}
