// Data access for the PR lifecycle (docs/architecture.md "PR lifecycle"): a PR observation applied to the proposal
// that owns the PR, the webhook delivery log, and what the reconciliation walks.
//
// An observation is one conditional UPDATE, so it is safe to repeat and to race: it matches only
// the proposal recording this PR number *and* branch in one of the given config repos, never moves
// a merged PR, and never applies a fact older than the one recorded (GitHub's own time of the
// state, `pr_state_at`). A webhook needs a strictly newer time (two events in one second cannot be
// ordered, so the first one kept stands); a reconciliation read is the current truth and may
// replace a fact of the same second.
import { observationOf, type PrObservation, type PrState } from '../domain/pr-lifecycle.js';
import type { ProposalStatus } from './proposals.js';
import type { Database } from './database.js';
import type { SqlScope } from './sql.js';

export type ApplyOutcome =
  /** The proposal now records this state. */
  | { outcome: 'applied'; proposalId: string; status: ProposalStatus; previous: PrState | null }
  /** The proposal already records this fact or a newer one (a duplicate or out-of-order delivery). */
  | { outcome: 'stale'; proposalId: string }
  /**
   * A webhook of the same second as the recorded fact, saying another state (a close and a
   * reopen within one second): the two cannot be ordered, so GitHub must be asked.
   */
  | { outcome: 'unordered'; proposalId: string; configRepoId: string }
  /** No proposal of these repos records this PR number and branch. */
  | { outcome: 'unmatched' };

export async function applyPrObservation(
  db: SqlScope,
  input: { configRepoIds: readonly string[]; observation: PrObservation; source: 'webhook' | 'reconcile' },
): Promise<ApplyOutcome> {
  const { observation: o } = input;
  const newer = input.source === 'reconcile' ? 'p.pr_state_at <= $5' : 'p.pr_state_at < $5';
  const rows = await db.sql.query<{ id: string; status: ProposalStatus; previous: PrState | null }>(
    `WITH target AS (
       SELECT p.id, p.pr_state AS previous FROM proposals p JOIN clusters c ON c.id = p.cluster_id
        WHERE c.config_repo_id = ANY($1::uuid[]) AND p.pr_number = $2 AND p.pr_branch = $3
          AND p.pr_state IS NOT NULL AND p.pr_state <> 'merged'
          AND (p.pr_state_at IS NULL OR ${newer} OR $4::pr_state = 'merged')
        FOR UPDATE OF p
     )
     UPDATE proposals p SET pr_state = $4::pr_state, pr_state_at = $5,
       status = CASE WHEN $4::pr_state = 'merged' AND p.status IN ('pr_opened', 'superseded')
                     THEN 'pr_merged'::proposal_status ELSE p.status END,
       updated_at = now()
       FROM target WHERE p.id = target.id
     RETURNING p.id, p.status::text AS status, target.previous::text AS previous`,
    [input.configRepoIds, o.prNumber, o.branch, o.state, o.at],
  );
  if (rows[0] !== undefined)
    return { outcome: 'applied', proposalId: rows[0].id, status: rows[0].status, previous: rows[0].previous };
  const [owner] = await db.sql.query<{ id: string; config_repo_id: string; unordered: boolean }>(
    `SELECT p.id, c.config_repo_id, (p.pr_state_at = $4 AND p.pr_state <> 'merged' AND p.pr_state <> $5::pr_state) AS unordered
       FROM proposals p JOIN clusters c ON c.id = p.cluster_id
      WHERE c.config_repo_id = ANY($1::uuid[]) AND p.pr_number = $2 AND p.pr_branch = $3 LIMIT 1`,
    [input.configRepoIds, o.prNumber, o.branch, o.at, o.state],
  );
  if (owner === undefined) return { outcome: 'unmatched' };
  return owner.unordered === true
    ? { outcome: 'unordered', proposalId: owner.id, configRepoId: owner.config_repo_id }
    : { outcome: 'stale', proposalId: owner.id };
}

/** A PR as its forge answered a read of it, applied as the current truth (as the reconciliation does). */
export function applyReadBack(
  db: SqlScope,
  configRepoId: string,
  pull: Parameters<typeof observationOf>[0],
): Promise<ApplyOutcome> {
  return applyPrObservation(db, {
    configRepoIds: [configRepoId],
    observation: observationOf(pull),
    source: 'reconcile',
  });
}

export interface WebhookDeliveryRecord {
  deliveryId: string;
  /** SHA-256 (hex) of the event name and the signed body. */
  bodyDigest: string;
  event: string;
  action: string | null;
  configRepoId: string | null;
  proposalId: string | null;
  outcome: string;
}

/**
 * The delivery recorded under this id, or with this body digest — the same signed body re-posted
 * under a fresh delivery id (the id is not signed) — while the log keeps it; undefined when neither.
 */
export async function findWebhookDelivery(
  db: SqlScope,
  deliveryId: string,
  bodyDigest: string,
): Promise<{ deliveryId: string; outcome: string } | undefined> {
  const [row] = await db.sql.query<{ delivery_id: string; outcome: string }>(
    'SELECT delivery_id, outcome FROM webhook_deliveries WHERE delivery_id = $1 OR body_digest = $2 ORDER BY delivery_id = $1 DESC LIMIT 1',
    [deliveryId, bodyDigest],
  );
  return row === undefined ? undefined : { deliveryId: row.delivery_id, outcome: row.outcome };
}

/** Records a delivery once; a concurrent duplicate (same id or body) that recorded first wins (its outcome stands). */
export async function recordWebhookDelivery(db: SqlScope, d: WebhookDeliveryRecord): Promise<void> {
  await db.sql.query(
    `INSERT INTO webhook_deliveries (delivery_id, body_digest, event, action, config_repo_id, proposal_id, outcome)
     VALUES ($1, $2, $3, $4, $5::uuid, $6::uuid, $7) ON CONFLICT DO NOTHING`,
    [d.deliveryId, d.bodyDigest, d.event, d.action, d.configRepoId, d.proposalId, d.outcome],
  );
}

/** Deliveries older than `days` (GitHub redelivers for 3 days; the log keeps a month). */
export async function pruneWebhookDeliveries(db: Database, days: number): Promise<number> {
  const rows = await db.sql.query(
    `DELETE FROM webhook_deliveries WHERE received_at < now() - make_interval(days => $1) RETURNING delivery_id`,
    [days],
  );
  return rows.length;
}

/**
 * The recorded PR states that may still change: `open`, and `closed` while younger than
 * the window (a closed PR can be reopened; a merge is final). `$N` is the window in seconds.
 */
const UNSETTLED = (window: string) =>
  `(p.pr_state = 'open' OR (p.pr_state = 'closed' AND coalesce(p.pr_state_at, p.updated_at) > now() - make_interval(secs => ${window})))`;

/** Config repos with at least one proposal whose PR state may still change. */
export async function listReposToReconcile(db: Database, closedWindowMs: number): Promise<string[]> {
  const rows = await db.sql.query<{ id: string }>(
    `SELECT DISTINCT c.config_repo_id AS id FROM proposals p JOIN clusters c ON c.id = p.cluster_id
      WHERE ${UNSETTLED('$1')} AND c.config_repo_id IS NOT NULL ORDER BY 1`,
    [closedWindowMs / 1000],
  );
  return rows.map((r) => r.id);
}

export interface UnsettledPrRow {
  proposalId: string;
  prNumber: number;
  branch: string;
  /** The ETag of the last read of this PR (a conditional read costs no rate limit when unchanged). */
  etag: string | null;
}

/** One page (by proposal id) of a repo's proposals whose PR state may still change (or only `proposalId`'s). */
export async function listUnsettledPrs(
  db: Database,
  input: { configRepoId: string; after: string | null; limit: number; closedWindowMs: number; proposalId?: string },
): Promise<UnsettledPrRow[]> {
  const rows = await db.sql.query<{ id: string; pr_number: number; pr_branch: string; pr_etag: string | null }>(
    `SELECT p.id, p.pr_number, p.pr_branch, p.pr_etag FROM proposals p JOIN clusters c ON c.id = p.cluster_id
      WHERE c.config_repo_id = $1::uuid AND ${UNSETTLED('$4')} AND p.pr_number IS NOT NULL AND p.pr_branch IS NOT NULL
        AND ($2::uuid IS NULL OR p.id > $2::uuid) AND ($5::uuid IS NULL OR p.id = $5::uuid)
      ORDER BY p.id LIMIT $3`,
    [input.configRepoId, input.after, input.limit, input.closedWindowMs / 1000, input.proposalId ?? null],
  );
  return rows.map((r) => ({ proposalId: r.id, prNumber: r.pr_number, branch: r.pr_branch, etag: r.pr_etag }));
}

/** A repo's PRs recorded closed for longer than the window: no longer read back (docs/operations.md "Webhooks"). */
export async function countClosedBeyondWindow(
  db: Database,
  configRepoId: string,
  closedWindowMs: number,
): Promise<number> {
  const [row] = await db.sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM proposals p JOIN clusters c ON c.id = p.cluster_id
      WHERE c.config_repo_id = $1::uuid AND p.pr_state = 'closed' AND NOT ${UNSETTLED('$2')}`,
    [configRepoId, closedWindowMs / 1000],
  );
  return row?.n ?? 0;
}

/** Remembers the ETag of a PR's last read, for the next conditional read. */
export async function recordPrEtag(db: Database, proposalId: string, etag: string | null): Promise<void> {
  await db.sql.query('UPDATE proposals SET pr_etag = $2 WHERE id = $1 AND pr_etag IS DISTINCT FROM $2', [
    proposalId,
    etag,
  ]);
}

/** Config repos whose URL is this repository's (case-insensitive, as GitHub treats owner/name). */
export async function findConfigReposByUrl(
  db: SqlScope,
  repoUrl: string,
): Promise<{ id: string; webhookSecretRef: string | null }[]> {
  const rows = await db.sql.query<{ id: string; webhook_secret_ref: string | null }>(
    'SELECT id, webhook_secret_ref FROM config_repos WHERE lower(repo_url) = lower($1) ORDER BY created_at, id',
    [repoUrl],
  );
  return rows.map((r) => ({ id: r.id, webhookSecretRef: r.webhook_secret_ref }));
}

/**
 * Config repos under one owner (`{origin}/{owner}/`, case-insensitive): an organisation's or an
 * App's webhook signs every repository's events with one secret.
 */
export async function findConfigReposByOwner(
  db: SqlScope,
  ownerPrefix: string,
): Promise<{ id: string; webhookSecretRef: string | null }[]> {
  const pattern = `${ownerPrefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db.sql.query<{ id: string; webhook_secret_ref: string | null }>(
    `SELECT id, webhook_secret_ref FROM config_repos WHERE lower(repo_url) LIKE $1 ESCAPE '\\' ORDER BY created_at, id`,
    [pattern],
  );
  return rows.map((r) => ({ id: r.id, webhookSecretRef: r.webhook_secret_ref }));
}

/** Config repos that authenticate as this GitHub App: its webhook (the App's own) signs with their secret. */
export async function findConfigReposByApp(
  db: SqlScope,
  appId: number,
): Promise<{ id: string; webhookSecretRef: string | null }[]> {
  const rows = await db.sql.query<{ id: string; webhook_secret_ref: string | null }>(
    'SELECT id, webhook_secret_ref FROM config_repos WHERE app_id = $1 ORDER BY created_at, id',
    [appId],
  );
  return rows.map((r) => ({ id: r.id, webhookSecretRef: r.webhook_secret_ref }));
}
