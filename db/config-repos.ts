// Data access for config_repos (docs/architecture.md "Data"). A duplicate name and a delete while clusters point at
// the repo are decided by the unique index and the foreign key, so concurrent requests cannot
// slip past a pre-check.
import type { ConfigRepo } from '../generated/prisma/client.js';
import type { Provider } from '../domain/github-url.js';
import { MERGE_METHODS, type MergeMethod, type PrOptions } from '../domain/pr-options.js';
import type { Database } from './database.js';
import { listKeyset, orderByIds, type ListedPage, type PageRequest } from './paging.js';
import { isForeignKeySqlError, isPrismaError } from './prisma-errors.js';

export type { ConfigRepo };

export interface NewConfigRepo {
  name: string;
  provider: Provider;
  repoUrl: string;
  defaultBranch: string;
  prBaseBranch: string;
  /** Exactly one of a token file and a GitHub App. */
  authRef: string | null;
  app?: AppAuth | null;
  webhookSecretRef: string | null;
  prOptions?: PrOptions;
}

export interface AppAuth {
  appId: number;
  privateKeyRef: string;
  installationId: number | null;
}

export interface ConfigRepoPatch {
  /** Setting one clears the other: a repo authenticates one way. */
  authRef?: string;
  app?: AppAuth;
  defaultBranch?: string;
  prBaseBranch?: string;
  webhookSecretRef?: string | null;
  prOptions?: PrOptions;
}

/** The columns of a repo's App auth (null clears them). */
function appColumns(app: AppAuth | null | undefined) {
  if (app === undefined) return {};
  return {
    appId: app?.appId ?? null,
    appPrivateKeyRef: app?.privateKeyRef ?? null,
    appInstallationId: app?.installationId ?? null,
  };
}

/** The columns of a repo's PR options. */
function prOptionColumns(o: PrOptions | undefined) {
  return o === undefined
    ? {}
    : {
        prDraft: o.draft,
        prLabels: o.labels,
        prReviewers: o.reviewers,
        prTeamReviewers: o.teamReviewers,
        prAssignees: o.assignees,
        prVerifiedCommits: o.verifiedCommits === true,
        prSupersede: o.supersede !== false,
        prMergeWhen: o.merge?.when ?? null,
        prMergeMethod: o.merge?.method ?? 'merge',
      };
}

/** What the activities get of a config repo: where it is and how to authenticate, never a secret. */
export function repoRefOf(r: ConfigRepo) {
  return {
    configRepoId: r.id,
    provider: providerOf(r),
    repoUrl: r.repoUrl,
    authRef: r.authRef,
    baseBranch: r.prBaseBranch,
    prOptions: prOptionsOf(r),
    ...(r.appId !== null && r.appPrivateKeyRef !== null
      ? { app: { appId: r.appId, privateKeyRef: r.appPrivateKeyRef, installationId: r.appInstallationId } }
      : {}),
  };
}

/** The repo's forge (the column's CHECK constraint keeps it to the known ones). */
export function providerOf(r: ConfigRepo): Provider {
  return r.provider === 'gitea' ? 'gitea' : 'github';
}

/** The column's CHECK constraint keeps it to the known methods. */
function mergeMethodOf(value: string): MergeMethod {
  return (MERGE_METHODS as readonly string[]).includes(value) ? (value as MergeMethod) : 'merge';
}

/** A repo's PR options as the activities take them. */
export function prOptionsOf(r: ConfigRepo): PrOptions {
  return {
    draft: r.prDraft,
    labels: r.prLabels,
    reviewers: r.prReviewers,
    teamReviewers: r.prTeamReviewers,
    assignees: r.prAssignees,
    verifiedCommits: r.prVerifiedCommits,
    supersede: r.prSupersede,
    merge: r.prMergeWhen === 'checks_pass' ? { when: 'checks_pass', method: mergeMethodOf(r.prMergeMethod) } : null,
  };
}

export async function findConfigRepo(db: Database, id: string): Promise<ConfigRepo | undefined> {
  return (await db.prisma.configRepo.findUnique({ where: { id } })) ?? undefined;
}

export async function isConfigRepoNameTaken(db: Database, name: string): Promise<boolean> {
  return (await db.prisma.configRepo.count({ where: { name } })) > 0;
}

export async function insertConfigRepo(db: Database, input: NewConfigRepo): Promise<ConfigRepo | 'name_taken'> {
  try {
    const { prOptions, app, ...rest } = input;
    return await db.prisma.configRepo.create({ data: { ...rest, ...appColumns(app), ...prOptionColumns(prOptions) } });
  } catch (error) {
    if (isPrismaError(error, 'P2002')) return 'name_taken';
    throw error;
  }
}

export async function updateConfigRepo(
  db: Database,
  id: string,
  patch: ConfigRepoPatch,
): Promise<ConfigRepo | undefined> {
  try {
    const { prOptions, app, ...rest } = patch;
    // One way to authenticate: a token file clears the App, an App clears the token file.
    const auth =
      app !== undefined ? { authRef: null, ...appColumns(app) } : rest.authRef !== undefined ? appColumns(null) : {};
    return await db.prisma.configRepo.update({
      where: { id },
      data: { ...rest, ...auth, ...prOptionColumns(prOptions) },
    });
  } catch (error) {
    if (isPrismaError(error, 'P2025')) return undefined;
    throw error;
  }
}

export async function deleteConfigRepo(db: Database, id: string): Promise<'deleted' | 'not_found' | 'in_use'> {
  // Raw SQL so the driver's SQLSTATE is seen directly on both PostgreSQL and PGlite.
  try {
    const rows = await db.sql.query('DELETE FROM config_repos WHERE id = $1::uuid RETURNING id', [id]);
    return rows.length === 1 ? 'deleted' : 'not_found';
  } catch (error) {
    // ON DELETE RESTRICT from clusters.config_repo_id: a cluster still points here.
    if (isForeignKeySqlError(error)) return 'in_use';
    throw error;
  }
}

export async function listConfigRepos(db: Database, page: PageRequest): Promise<ListedPage<ConfigRepo>> {
  const keys = await listKeyset(db.sql, { table: 'config_repos', filters: [], ...page });
  const rows = await db.prisma.configRepo.findMany({ where: { id: { in: keys.ids } } });
  return { rows: orderByIds(keys.ids, rows), next: keys.next, total: keys.total };
}
