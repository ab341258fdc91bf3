// POST /api/v1/webhooks/github (docs/architecture.md "PR lifecycle"): GitHub's `pull_request` events keep each
// proposal's pr_state true — merged, closed, reopened. No bearer token: GitHub signs the raw body
// with the config repo's webhook secret (`X-Hub-Signature-256`, HMAC-SHA256), verified in constant
// time by @octokit/webhooks-methods before anything in the payload is acted on.
//   https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
//
// Order of checks, each answering before anything is recorded:
//   413 body over 1 MiB → 401 no well-formed sha256 signature → 422 missing delivery/event headers
//   or a body that is not a JSON object (nested at most 64 levels) naming a repository, an
//   organisation or an App → 404 no config repo for it (the repository's own, else those under its
//   owner or using that App: an organisation's or App's webhook, webhook-targets.ts) → 403 none of
//   those repos has a webhook secret → 401 the signature matches none of their secrets. Only then:
//   a delivery id already recorded, or the same body under another id, is a no-op (200); an action
//   or head branch the database cannot store is 422; `ping` is 200; an event about anything but a
//   config repository is 202 ignored; `pull_request` closed/reopened applies to the proposal
//   recording that PR number and branch, and one in the same second as the recorded state, saying
//   another (it cannot be ordered), is read back from GitHub by a short workflow (202 deferred);
//   everything else is 202 and ignored. The database work answers within GitHub's 10 s (503).
// The payload is parsed before the signature is checked only to learn which repository's secret
// to check it with; nothing of it is trusted or stored until the signature matched.
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { z } from 'zod';
import { verify } from '@octokit/webhooks-methods';
import { readSecret, SecretError } from '../adapters/secrets.js';
import type { Database } from '../db/database.js';
import { isSqlTimeout, type SqlLimits, type SqlScope } from '../db/sql.js';
import {
  applyPrObservation,
  findWebhookDelivery,
  recordWebhookDelivery,
  type ApplyOutcome,
} from '../db/pr-lifecycle.js';
import type { Config } from '../domain/config.js';
import { AppError } from '../domain/errors.js';
import { readPullRequestEvent } from '../domain/pr-lifecycle.js';
import type { Redactor } from '../domain/redact.js';
import { RECONCILE_WORKFLOW, reconcilePrWorkflowId, type ReconcileInput } from '../domain/reconcile-contracts.js';
import { isStorableText } from '../domain/storable-text.js';
import type { Logger } from '../runtime/logger.js';
import type { TemporalHandle } from '../adapters/temporal-client.js';
import { startOrAttach } from './routes/start-workflow.js';
import { answer, defineRoute, type Answer, type RouteSpec } from './route.js';
import { assertJsonDepth } from './validation.js';
import { candidateRepos, targetOf } from './webhook-targets.js';
import { CHECK_EVENTS, checkTargetsOf, wakeMerges } from './merge-signals.js';
import { findActiveMerges } from '../db/merges.js';

export const WEBHOOK_PATH = '/webhooks/github';

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;
/** GitHub's delivery ids are GUIDs; anything id-like of bounded length is accepted. */
const DELIVERY_ID = /^[A-Za-z0-9-]{1,64}$/;
/** GitHub's event names: lower case, digits (`projects_v2_item`) and underscores. */
const EVENT = /^[a-z][a-z0-9_]{0,63}$/;

export interface WebhookDeps {
  config: Config;
  db: Database;
  /** Starts the read-back of a PR whose delivery cannot be ordered. */
  temporal: TemporalHandle;
  logger: Logger;
  redactor: Redactor;
}

/** What a handled delivery answers (and records as its outcome). */
export type WebhookOutcome =
  | 'pong'
  | 'applied'
  | 'stale'
  | 'unmatched'
  | 'foreign'
  | 'ignored'
  | 'merged_after_reject'
  | 'deferred'
  /** A check event woke the merge waits of the PRs it names. */
  | 'signalled';

function invalid(message: string, field: string): AppError {
  return new AppError({ code: 'VALIDATION_ERROR', message, field });
}

/**
 * The secrets a webhook may be signed with: every non-empty line of the secret file, the current
 * one first. Two lines while a secret is rotated (docs/operations.md "Webhooks").
 */
export async function readWebhookSecrets(secretsDir: string, ref: string, redactor: Redactor): Promise<string[]> {
  const text = await readSecret(secretsDir, ref, redactor);
  const secrets = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  for (const s of secrets) redactor.register(s);
  return secrets;
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** The webhook route: signed by the forge instead of the bearer token, its raw body what was signed. */
export function webhookRoute(deps: WebhookDeps): RouteSpec {
  return defineRoute({
    method: 'post',
    path: WEBHOOK_PATH,
    tag: 'webhooks',
    auth: 'handler',
    rawBody: true,
    summary:
      'pull_request webhooks of GitHub, and of Gitea and Forgejo (they send the same headers and signature): merged, closed, reopened (docs/operations.md "Webhooks")',
    description:
      "Authenticated by X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the config repo's webhook secret), not by the bearer token. " +
      'The repository is taken from the payload (repository.html_url) and must match a config repo. A delivery id already recorded, or a body already ' +
      'received under another delivery id (within the 30 days the delivery log keeps), changes nothing. Payloads nest at most 64 levels; a value ' +
      'that is recorded or looked up (action, pull_request.head.ref) holding a NUL character or an unpaired surrogate is a 422.',
    headers: z.object({
      'x-hub-signature-256': z.string().describe('sha256=<hex HMAC of the raw body>'),
      'x-github-event': z
        .string()
        .describe(
          'pull_request and ping are handled; check_run, check_suite and status wake merge waits; other events are accepted and ignored',
        ),
      'x-github-delivery': z.string().describe("GitHub's delivery GUID; a redelivery is a no-op"),
    }),
    body: z.record(z.string(), z.unknown()).describe("GitHub's webhook payload"),
    success: {
      status: 200,
      description: 'ping answered, or a pull_request event applied (or already known: stale, duplicate)',
      schema: handledAnswer,
    },
    alsoSucceeds: [
      {
        status: 202,
        description:
          'Accepted and ignored: an event or action that does not change pr_state, a PR from a fork, or a PR no proposal records; or deferred: the PR is read back from GitHub',
        schema: ignoredAnswer,
      },
    ],
    errors: [
      'WEBHOOK_SIGNATURE_INVALID',
      'WEBHOOK_NOT_CONFIGURED',
      'CONFIG_REPO_NOT_FOUND',
      'QUEUE_UNAVAILABLE',
      'DATABASE_BUSY',
    ],
    handler: ({ req }) => handle(deps, req),
  });
}

const handledAnswer = z.object({
  delivery: z.string(),
  outcome: z.enum(['pong', 'applied', 'stale', 'merged_after_reject', 'duplicate']),
  proposal_id: z.string().optional(),
  first_outcome: z
    .string()
    .optional()
    .describe('For a duplicate: what the first delivery of this id, or of this body, did.'),
  first_delivery: z
    .string()
    .optional()
    .describe('For a replay (the same signed body under another delivery id): the delivery id that first brought it.'),
});
const ignoredAnswer = z.object({
  delivery: z.string(),
  outcome: z.enum(['ignored', 'foreign', 'unmatched', 'deferred']),
  reason: z.string().optional(),
  proposal_id: z.string().optional(),
  workflow_id: z
    .string()
    .optional()
    .describe(
      'For deferred (a state change in the same second as the recorded one): the run reading the PR back from GitHub.',
    ),
});

async function handle(deps: WebhookDeps, req: Request): Promise<Answer> {
  const signature = header(req, 'x-hub-signature-256');
  if (signature === undefined || !SIGNATURE.test(signature)) {
    throw new AppError({
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message: 'missing or malformed X-Hub-Signature-256 (sha256=<64 hex>)',
    });
  }
  const deliveryId = header(req, 'x-github-delivery');
  if (deliveryId === undefined || !DELIVERY_ID.test(deliveryId))
    throw invalid('missing or malformed X-GitHub-Delivery', 'headers.x-github-delivery');
  const event = header(req, 'x-github-event');
  if (event === undefined || !EVENT.test(event))
    throw invalid('missing or malformed X-GitHub-Event', 'headers.x-github-event');
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const text = body.toString('utf8');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw invalid('the body is not JSON (configure the webhook with content type application/json)', 'body');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw invalid('the body is not a JSON object', 'body');
  assertJsonDepth(payload, 'body');
  const target = targetOf(payload, deps.config);
  if (target === undefined)
    throw invalid(
      'the payload names no repository, organisation or App on an allowed GitHub host (repository.html_url, organization.url, hook.app_id)',
      'body.repository',
    );

  // Everything that reads or writes the database answers within GitHub's 10 s.
  return withinGitHubsWait(deps, async (db) => {
    const candidates = await candidateRepos(db, target);
    if (candidates.repos.length === 0)
      throw new AppError({
        code: 'CONFIG_REPO_NOT_FOUND',
        message: `no config repo is registered for ${target.label}`,
      });
    const verified = await verifiedRepos(deps, candidates.repos, text, signature);
    if (verified === 'no_secret') {
      throw new AppError({
        code: 'WEBHOOK_NOT_CONFIGURED',
        message: `no config repo for ${target.label} has a usable webhook_secret_ref; set one to accept its webhooks`,
      });
    }
    if (verified.length === 0)
      throw new AppError({
        code: 'WEBHOOK_SIGNATURE_INVALID',
        message: "X-Hub-Signature-256 does not match the body for this repository's webhook secret",
      });

    // Authentic from here on. A redelivery (same id), or the same signed body replayed under a
    // fresh id, is answered with what the first delivery did and recorded no more.
    const bodyDigest = createHash('sha256').update(`${event}\n`).update(body).digest('hex');
    const seen = await findWebhookDelivery(db, deliveryId, bodyDigest);
    if (seen !== undefined) {
      return answer(200, {
        delivery: deliveryId,
        outcome: 'duplicate',
        first_outcome: seen.outcome,
        ...(seen.deliveryId === deliveryId ? {} : { first_delivery: seen.deliveryId }),
      });
    }
    const action =
      typeof (payload as { action?: unknown }).action === 'string'
        ? String((payload as { action: string }).action).slice(0, 64)
        : null;
    // Recorded with the delivery: text the database cannot store is refused before anything is written.
    if (action !== null && !isStorableText(action))
      throw invalid(
        'body.action: contains a NUL character or an unpaired surrogate, which GitHub never sends',
        'body.action',
      );
    const record = (outcome: WebhookOutcome, proposalId: string | null = null) =>
      recordWebhookDelivery(db, {
        deliveryId,
        bodyDigest,
        event,
        action,
        configRepoId: verified[0] ?? null,
        proposalId,
        outcome,
      });
    const log = deps.logger.child({ delivery: deliveryId, event, action, repo: target.label });

    if (event === 'ping') {
      await record('pong');
      log.info('webhook ping');
      return answer(200, { delivery: deliveryId, outcome: 'pong' });
    }
    if (!candidates.exact) {
      // Signed by the owner's (or App's) secret, about a repository no config repo names, or about
      // the owner itself: authentic, and nothing of ours.
      await record('ignored');
      return answer(202, {
        delivery: deliveryId,
        outcome: 'ignored',
        reason:
          target.repoUrl === undefined
            ? `event ${event} is not about a repository`
            : `no config repo names ${target.repoUrl}`,
      });
    }
    if ((CHECK_EVENTS as readonly string[]).includes(event)) {
      const concerned = await findActiveMerges(db, { configRepoIds: verified, ...checkTargetsOf(event, payload) });
      const woken = await wakeMerges(deps, concerned);
      await record(woken.length > 0 ? 'signalled' : 'ignored', woken[0] ?? null);
      if (woken.length > 0) log.info({ outcome: 'signalled', proposals: woken }, 'checks changed; merge waits woken');
      return woken.length > 0
        ? answer(200, { delivery: deliveryId, outcome: 'signalled', proposal_ids: woken })
        : answer(202, { delivery: deliveryId, outcome: 'ignored', reason: 'no merge waits on these checks' });
    }
    if (event !== 'pull_request') {
      await record('ignored');
      return answer(202, { delivery: deliveryId, outcome: 'ignored', reason: `event ${event} is not handled` });
    }
    const read = readPullRequestEvent(payload);
    if (read.kind === 'malformed') throw invalid(read.message, read.field);
    if (read.kind !== 'observation') {
      await record(read.kind);
      return answer(202, {
        delivery: deliveryId,
        outcome: read.kind,
        reason:
          read.kind === 'foreign'
            ? 'the PR comes from another repository'
            : `action ${read.action} does not change pr_state`,
      });
    }
    const applied = await applyPrObservation(db, {
      configRepoIds: verified,
      observation: read.observation,
      source: 'webhook',
    });
    if (applied.outcome === 'unordered') {
      // Same second as the recorded fact, another state: GitHub decides. A short workflow reads the
      // PR back and records what it says; Temporal down → 503, GitHub lists the delivery as failed.
      const workflowId = reconcilePrWorkflowId(applied.proposalId, deliveryId);
      const input: ReconcileInput = { configRepoId: applied.configRepoId, proposalId: applied.proposalId };
      await startOrAttach(deps, RECONCILE_WORKFLOW, {
        workflowId,
        args: [input],
        staticSummary: `Read back PR #${read.observation.prNumber}: a webhook saying ${read.observation.state} in the same second as the recorded state`,
      });
      await record('deferred', applied.proposalId);
      log.info(
        {
          outcome: 'deferred',
          pr: read.observation.prNumber,
          state: read.observation.state,
          proposal: applied.proposalId,
          workflowId,
        },
        'webhook delivery cannot be ordered; reading the PR back from GitHub',
      );
      return answer(202, {
        delivery: deliveryId,
        outcome: 'deferred',
        proposal_id: applied.proposalId,
        workflow_id: workflowId,
      });
    }
    const outcome = outcomeOf(applied);
    await record(outcome, applied.outcome === 'unmatched' ? null : applied.proposalId);
    // A merge wait on this PR reads its state back now (a close or a merge ends it).
    if (applied.outcome === 'applied')
      await wakeMerges(
        deps,
        await findActiveMerges(db, { configRepoIds: verified, prNumbers: [read.observation.prNumber], branches: [] }),
      );
    const fields = {
      outcome,
      pr: read.observation.prNumber,
      state: read.observation.state,
      ...(applied.outcome === 'unmatched' ? {} : { proposal: applied.proposalId }),
    };
    if (outcome === 'merged_after_reject')
      log.warn(fields, "a rejected proposal's PR was merged; recorded pr_state merged, status stays rejected");
    else log.info(fields, 'webhook delivery handled');
    return answer(applied.outcome === 'unmatched' ? 202 : 200, {
      delivery: deliveryId,
      outcome,
      ...(applied.outcome === 'unmatched' ? {} : { proposal_id: applied.proposalId }),
    });
  });
}

/**
 * GitHub gives up on a delivery after 10 s and lists it as failed. Each statement of a delivery
 * gets 2 s and a lock wait 1 s (a proposal row held by another transaction); past that the answer
 * is a quick 503 DATABASE_BUSY, nothing is recorded, and a redelivery or the reconciliation
 * catches the change up.
 */
const WEBHOOK_DB_LIMITS: SqlLimits = { statementTimeoutMs: 2_000, lockTimeoutMs: 1_000 };

async function withinGitHubsWait<T>(deps: WebhookDeps, fn: (db: SqlScope) => Promise<T>): Promise<T> {
  try {
    return await deps.db.sql.withLimits(WEBHOOK_DB_LIMITS, (sql) => fn({ sql }));
  } catch (error) {
    if (!isSqlTimeout(error)) throw error;
    throw new AppError({
      code: 'DATABASE_BUSY',
      message:
        'the database did not answer in time (a proposal row is locked by another transaction?); GitHub lists the delivery as failed, redeliver it or let the reconciliation catch it up',
      cause: error,
    });
  }
}

function outcomeOf(applied: Exclude<ApplyOutcome, { outcome: 'unordered' }>): WebhookOutcome {
  if (applied.outcome !== 'applied') return applied.outcome;
  return applied.status === 'rejected' ? 'merged_after_reject' : 'applied';
}

/**
 * The repos among `repos` whose secret signed the body, or `no_secret` when none has a usable
 * secret file. Several config repos may name one repository (each with its own clusters).
 */
async function verifiedRepos(
  deps: WebhookDeps,
  repos: { id: string; webhookSecretRef: string | null }[],
  body: string,
  signature: string,
): Promise<string[] | 'no_secret'> {
  let withSecret = 0;
  const verified: string[] = [];
  for (const repo of repos) {
    if (repo.webhookSecretRef === null) continue;
    let secrets: string[];
    try {
      secrets = await readWebhookSecrets(deps.config.secretsDir, repo.webhookSecretRef, deps.redactor);
    } catch (error) {
      if (error instanceof SecretError) continue;
      throw error;
    }
    withSecret += 1;
    for (const secret of secrets) {
      if (await verify(secret, body, signature)) {
        verified.push(repo.id);
        break;
      }
    }
  }
  return withSecret === 0 ? 'no_secret' : verified;
}
