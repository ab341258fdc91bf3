// Races are decided by the database, not by read-then-write (docs/api.md): twenty parallel creates
// of one name give one 201 and nineteen 409; twenty parallel rejects give one 200 and nineteen
// 409 (and ten renames of a cluster's templates to one name, one 200); a delete racing a cluster
// that starts pointing at the repo never lets both succeed.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { insertConfigRepo } from '../../db/config-repos.js';
import { seedChain, startApiHarness, type ApiHarness } from '../support/api-harness.js';

const count = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});

describe('races on PostgreSQL', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ kind: 'postgres' });
  });
  afterAll(async () => {
    await h.close();
  });

  test('20 parallel creates with one name → one 201 and nineteen 409 CONFIG_REPO_NAME_TAKEN', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.request('POST', '/api/v1/config-repos', {
          body: { name: 'contested', repo_url: `https://github.com/acme/cfg-${i}`, auth_ref: h.refs.good },
        }),
      ),
    );
    expect(count(responses.map((r) => r.status))).toEqual({ 201: 1, 409: 19 });
    for (const r of responses.filter((x) => x.status === 409))
      expect(r.body.detail.error_code).toBe('CONFIG_REPO_NAME_TAKEN');
    const winner = responses.find((r) => r.status === 201);
    const rows = await h.db.prisma.configRepo.findMany({ where: { name: 'contested' } });
    expect(rows.map((r) => r.id)).toEqual([winner?.body.id]);
  });

  test('the unique index, not the pre-check, has the last word on a duplicate name', async () => {
    const input = {
      name: 'constraint-only',
      provider: 'github' as const,
      repoUrl: 'https://github.com/a/b',
      defaultBranch: 'main',
      prBaseBranch: 'main',
      authRef: 'gh_token',
      webhookSecretRef: null,
    };
    const first = await insertConfigRepo(h.db, input);
    expect(first).toMatchObject({ name: 'constraint-only' });
    expect(await insertConfigRepo(h.db, input)).toBe('name_taken');
    expect(await h.db.prisma.configRepo.count({ where: { name: 'constraint-only' } })).toBe(1);
  });

  test('10 templates of one cluster renamed in parallel to one name → one 200 and nine 409 TEMPLATE_NAME_TAKEN', async () => {
    const seed = await seedChain(h, 'template-race');
    const ids = [seed.templateId];
    for (let i = 1; i < 10; i++)
      ids.push(
        (
          await h.request('POST', '/api/v1/templates', {
            body: { cluster_id: seed.clusterId, name: `tpl-${i}`, declared_params: ['a'] },
          })
        ).body.id,
      );
    const responses = await Promise.all(
      ids.map((id) => h.request('PATCH', `/api/v1/templates/${id}`, { body: { name: 'contested' } })),
    );
    expect(count(responses.map((r) => r.status))).toEqual({ 200: 1, 409: 9 });
    for (const r of responses.filter((x) => x.status === 409))
      expect(r.body.detail.error_code).toBe('TEMPLATE_NAME_TAKEN');
    const named = await h.db.prisma.queryTemplate.findMany({ where: { clusterId: seed.clusterId, name: 'contested' } });
    expect(named.map((t) => t.id)).toEqual([responses.find((r) => r.status === 200)?.body.id]);
  });

  test('20 parallel rejects → one 200 and nineteen 409 INVALID_STATE_TRANSITION', async () => {
    const seed = await seedChain(h, 'reject-race');
    const proposal = await h.request('POST', '/api/v1/proposals', {
      body: {
        cluster_id: seed.clusterId,
        template_id: seed.templateId,
        config_diff: { 'bm25.k1': { from: 1, to: 2 } },
      },
    });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.request('POST', `/api/v1/proposals/${proposal.body.id}/reject`, { body: { reason: `operator ${i}` } }),
      ),
    );
    expect(count(responses.map((r) => r.status))).toEqual({ 200: 1, 409: 19 });
    for (const r of responses.filter((x) => x.status === 409))
      expect(r.body.detail.error_code).toBe('INVALID_STATE_TRANSITION');
    const winner = responses.find((r) => r.status === 200);
    const stored = await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: proposal.body.id } });
    expect(stored.status).toBe('rejected');
    expect(stored.rejectedReason).toBe(winner?.body.rejected_reason);
  });

  test('delete racing a cluster that points at the repo: never both succeed', async () => {
    for (let round = 0; round < 10; round++) {
      const repo = await h.request('POST', '/api/v1/config-repos', {
        body: { name: `race-${round}`, repo_url: 'https://github.com/acme/race', auth_ref: h.refs.good },
      });
      const [del, cluster] = await Promise.all([
        h.request('DELETE', `/api/v1/config-repos/${repo.body.id}`),
        h.request('POST', '/api/v1/clusters', { body: { name: `race ${round}`, config_repo_id: repo.body.id } }),
      ]);
      const outcome = `${del.status}/${cluster.status}`;
      expect(['204/404', '409/201']).toContain(outcome);
      const repoRow = await h.db.prisma.configRepo.findUnique({ where: { id: repo.body.id } });
      const clusterRows = await h.db.prisma.cluster.count({ where: { configRepoId: repo.body.id } });
      expect({ repoExists: repoRow !== null, clusters: clusterRows }).toEqual(
        outcome === '204/404' ? { repoExists: false, clusters: 0 } : { repoExists: true, clusters: 1 },
      );
    }
  });
});
