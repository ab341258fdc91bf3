// Every route's success path over HTTP, asserting the response and the stored row, on a real
// PostgreSQL and on embedded PGlite.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startApiHarness, type ApiHarness, type DbKind } from '../support/api-harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each<DbKind>(['postgres', 'pglite'])('API flows on %s', (kind) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ kind });
  });
  afterAll(async () => {
    await h.close();
  });

  const ids: Record<string, string> = {};

  test('POST /config-repos stores the repo with provider derived from the URL and the canonical URL', async () => {
    const res = await h.request('POST', '/api/v1/config-repos', {
      body: {
        name: 'search-config',
        repo_url: 'https://github.com/Acme/search-config.git',
        auth_ref: h.refs.good,
        pr_base_branch: 'release/2026',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      name: 'search-config',
      provider: 'github',
      repo_url: 'https://github.com/Acme/search-config',
      default_branch: 'main',
      pr_base_branch: 'release/2026',
      auth_ref: 'gh_token',
      app: null,
      webhook_secret_ref: null,
      pr_options: {
        draft: false,
        labels: [],
        reviewers: [],
        team_reviewers: [],
        assignees: [],
        verified_commits: false,
        supersede: true,
        merge: null,
      },
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const stored = await h.db.prisma.configRepo.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(stored).toMatchObject({
      name: 'search-config',
      provider: 'github',
      repoUrl: 'https://github.com/Acme/search-config',
      prBaseBranch: 'release/2026',
      defaultBranch: 'main',
      authRef: 'gh_token',
      webhookSecretRef: null,
    });
    expect(stored.createdAt.toISOString()).toBe(res.body.created_at);
    ids.repo = res.body.id;
  });

  test('an allow-listed GitHub Enterprise host is accepted', async () => {
    const res = await h.request('POST', '/api/v1/config-repos', {
      body: {
        name: 'ghe-config',
        repo_url: 'https://GHE.example.com/team/cfg',
        auth_ref: h.refs.second,
        webhook_secret_ref: 'hook_secret',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      repo_url: 'https://ghe.example.com/team/cfg',
      provider: 'github',
      webhook_secret_ref: 'hook_secret',
    });
    expect(await h.db.prisma.configRepo.findUniqueOrThrow({ where: { id: res.body.id } })).toMatchObject({
      repoUrl: 'https://ghe.example.com/team/cfg',
      webhookSecretRef: 'hook_secret',
    });
    ids.gheRepo = res.body.id;
  });

  test('a repo on an allow-listed Gitea host is stored with provider gitea, and the column takes no other forge', async () => {
    const res = await h.request('POST', '/api/v1/config-repos', {
      body: {
        name: 'gitea-config',
        repo_url: 'https://Git.Example.com/team_a/cfg.git',
        auth_ref: h.refs.good,
        pr_options: { draft: true, labels: ['tuning'] },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      provider: 'gitea',
      repo_url: 'https://git.example.com/team_a/cfg',
      app: null,
      pr_options: { draft: true, labels: ['tuning'], verified_commits: false, supersede: true, merge: null },
    });
    expect(await h.db.prisma.configRepo.findUniqueOrThrow({ where: { id: res.body.id } })).toMatchObject({
      provider: 'gitea',
    });
    // The CHECK constraint of the migration: a provider the service has no adapter for cannot be stored.
    await expect(
      h.db.sql.query("UPDATE config_repos SET provider = 'gitlab' WHERE id = $1::uuid", [res.body.id]),
    ).rejects.toThrow(/config_repos_provider_check/);
    expect((await h.request('DELETE', `/api/v1/config-repos/${res.body.id}`)).status).toBe(204);
  });

  test('GET /config-repos/{id} and the list return the stored repos', async () => {
    const one = await h.request('GET', `/api/v1/config-repos/${ids.repo}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: ids.repo, name: 'search-config' });
    const list = await h.request('GET', '/api/v1/config-repos');
    expect(list.status).toBe(200);
    expect(list.headers.get('x-total-count')).toBe('2');
    expect(list.body).toEqual({
      data: [expect.objectContaining({ id: ids.gheRepo }), expect.objectContaining({ id: ids.repo })],
      next_cursor: null,
      has_more: false,
    });
  });

  test('PATCH /config-repos/{id} rotates auth_ref and branches', async () => {
    const res = await h.request('PATCH', `/api/v1/config-repos/${ids.repo}`, {
      body: { auth_ref: h.refs.second, default_branch: 'trunk', webhook_secret_ref: null },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: ids.repo,
      auth_ref: 'gh_token_2',
      default_branch: 'trunk',
      pr_base_branch: 'release/2026',
      webhook_secret_ref: null,
    });
    const stored = await h.db.prisma.configRepo.findUniqueOrThrow({ where: { id: ids.repo } });
    expect(stored).toMatchObject({
      authRef: 'gh_token_2',
      defaultBranch: 'trunk',
      prBaseBranch: 'release/2026',
      name: 'search-config',
    });
    expect(stored.updatedAt.getTime()).toBeGreaterThanOrEqual(stored.createdAt.getTime());
  });

  test('POST /clusters, PATCH /clusters/{id}, GET one and list', async () => {
    const created = await h.request('POST', '/api/v1/clusters', { body: { name: 'prod-eu' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'prod-eu', config_repo_id: null, config_path: null });
    ids.cluster = created.body.id;
    const patched = await h.request('PATCH', `/api/v1/clusters/${ids.cluster}`, {
      body: { config_repo_id: ids.repo, config_path: 'clusters/prod-eu' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: ids.cluster, config_repo_id: ids.repo, config_path: 'clusters/prod-eu' });
    expect(await h.db.prisma.cluster.findUniqueOrThrow({ where: { id: ids.cluster } })).toMatchObject({
      name: 'prod-eu',
      configRepoId: ids.repo,
      configPath: 'clusters/prod-eu',
    });
    const one = await h.request('GET', `/api/v1/clusters/${ids.cluster}`);
    expect(one.body).toEqual(patched.body);
    const list = await h.request('GET', '/api/v1/clusters?limit=10');
    expect(list.headers.get('x-total-count')).toBe('1');
    expect(list.body.data).toEqual([patched.body]);
  });

  test('PATCH /clusters/{id} can detach the config repo', async () => {
    const other = await h.request('POST', '/api/v1/clusters', {
      body: { name: 'staging', config_repo_id: ids.gheRepo, config_path: 'staging' },
    });
    expect(other.status).toBe(201);
    expect(await h.db.prisma.cluster.findUniqueOrThrow({ where: { id: other.body.id } })).toMatchObject({
      configRepoId: ids.gheRepo,
      configPath: 'staging',
    });
    const res = await h.request('PATCH', `/api/v1/clusters/${other.body.id}`, { body: { config_repo_id: null } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ config_repo_id: null, config_path: 'staging' });
    expect(await h.db.prisma.cluster.findUniqueOrThrow({ where: { id: other.body.id } })).toMatchObject({
      configRepoId: null,
      configPath: 'staging',
    });
  });

  test('DELETE /config-repos/{id} removes an unused repo', async () => {
    const res = await h.request('DELETE', `/api/v1/config-repos/${ids.gheRepo}`);
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(await h.db.prisma.configRepo.findUnique({ where: { id: ids.gheRepo } })).toBeNull();
  });

  test('DELETE /config-repos/{id} while a cluster points at it is 409 CONFIG_REPO_IN_USE', async () => {
    const res = await h.request('DELETE', `/api/v1/config-repos/${ids.repo}`);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      detail: { error_code: 'CONFIG_REPO_IN_USE', message: expect.any(String), retryable: false },
    });
    expect(await h.db.prisma.configRepo.findUnique({ where: { id: ids.repo } })).not.toBeNull();
  });

  test('POST /templates, GET one and list filtered by cluster', async () => {
    const res = await h.request('POST', '/api/v1/templates', {
      body: { cluster_id: ids.cluster, name: 'products.search', declared_params: ['field_boosts.title', 'bm25.k1'] },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      cluster_id: ids.cluster,
      name: 'products.search',
      declared_params: ['field_boosts.title', 'bm25.k1'],
    });
    ids.template = res.body.id;
    expect(await h.db.prisma.queryTemplate.findUniqueOrThrow({ where: { id: ids.template } })).toMatchObject({
      clusterId: ids.cluster,
      name: 'products.search',
      declaredParams: ['field_boosts.title', 'bm25.k1'],
    });
    expect((await h.request('GET', `/api/v1/templates/${ids.template}`)).body).toEqual(res.body);
    const list = await h.request('GET', `/api/v1/templates?cluster_id=${ids.cluster}`);
    expect(list.body.data).toEqual([res.body]);
    expect(list.headers.get('x-total-count')).toBe('1');
  });

  test('PATCH /templates/{id} fixes the declared params and the name in place; updated_at moves', async () => {
    const created = await h.request('POST', '/api/v1/templates', {
      body: { cluster_id: ids.cluster, name: 'to.fix', declared_params: ['a'] },
    });
    await new Promise((r) => setTimeout(r, 5)); // timestamps have millisecond resolution
    const res = await h.request('PATCH', `/api/v1/templates/${created.body.id}`, {
      body: { declared_params: ['a', 'b'] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: created.body.id,
      name: 'to.fix',
      declared_params: ['a', 'b'],
      created_at: created.body.created_at,
    });
    expect(Date.parse(res.body.updated_at)).toBeGreaterThan(Date.parse(created.body.updated_at));
    const renamed = await h.request('PATCH', `/api/v1/templates/${created.body.id}`, { body: { name: 'fixed' } });
    expect(renamed.body).toMatchObject({ name: 'fixed', declared_params: ['a', 'b'] });
    expect((await h.request('GET', `/api/v1/templates/${created.body.id}`)).body).toEqual(renamed.body);
  });

  test('POST /studies, GET one and list', async () => {
    const res = await h.request('POST', '/api/v1/studies', {
      body: {
        name: 'Title boost sweep',
        cluster_id: ids.cluster,
        template_id: ids.template,
        metric: 'ndcg@10',
        baseline_metric: 0.5,
        best_metric: 0.55,
        parameter_importance: { 'field_boosts.title': 0.8, 'bm25.k1': 0.2 },
        suggested_followups: ['tune fuzziness', 'try k1 > 2'],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      metric: 'ndcg@10',
      baseline_metric: 0.5,
      best_metric: 0.55,
      parameter_importance: { 'field_boosts.title': 0.8, 'bm25.k1': 0.2 },
      suggested_followups: ['tune fuzziness', 'try k1 > 2'],
    });
    ids.study = res.body.id;
    expect(await h.db.prisma.study.findUniqueOrThrow({ where: { id: ids.study } })).toMatchObject({
      name: 'Title boost sweep',
      clusterId: ids.cluster,
      templateId: ids.template,
      baselineMetric: 0.5,
      bestMetric: 0.55,
      parameterImportance: { 'field_boosts.title': 0.8, 'bm25.k1': 0.2 },
      suggestedFollowups: ['tune fuzziness', 'try k1 > 2'],
    });
    expect((await h.request('GET', `/api/v1/studies/${ids.study}`)).body).toEqual(res.body);
    expect((await h.request('GET', '/api/v1/studies')).body.data).toEqual([res.body]);
  });

  test('POST /proposals (manual) stores study_id and metric_delta null', async () => {
    const diff = {
      'field_boosts.title': { from: 2, to: 4.5 },
      analyzer: { from: 'standard', to: null },
      fuzzy: { from: false, to: true },
    };
    const res = await h.request('POST', '/api/v1/proposals', {
      body: { cluster_id: ids.cluster, template_id: ids.template, config_diff: diff },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'pending',
      study_id: null,
      metric_delta: null,
      config_diff: diff,
      pr_url: null,
      pr_state: null,
      rejected_reason: null,
    });
    ids.manual = res.body.id;
    expect(await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: ids.manual } })).toMatchObject({
      status: 'pending',
      studyId: null,
      metricDelta: null,
      configDiff: diff,
    });
  });

  test('POST /proposals (study-backed) derives metric_delta from the study', async () => {
    const res = await h.request('POST', '/api/v1/proposals', {
      body: {
        cluster_id: ids.cluster,
        template_id: ids.template,
        study_id: ids.study,
        config_diff: { 'bm25.k1': { from: 1.2, to: 1.6 } },
      },
    });
    expect(res.status).toBe(201);
    const delta = { 'ndcg@10': { baseline: 0.5, achieved: 0.55, delta_pct: 10 } };
    expect(res.body).toMatchObject({ study_id: ids.study, metric_delta: delta, status: 'pending' });
    ids.backed = res.body.id;
    expect(await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: ids.backed } })).toMatchObject({
      studyId: ids.study,
      metricDelta: delta,
      configDiff: { 'bm25.k1': { from: 1.2, to: 1.6 } },
    });
    expect((await h.request('GET', `/api/v1/proposals/${ids.backed}`)).body).toEqual(res.body);
  });

  test('POST /proposals/{id}/reject moves pending to rejected once', async () => {
    const res = await h.request('POST', `/api/v1/proposals/${ids.manual}/reject`, {
      body: { reason: 'boost too aggressive' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ids.manual, status: 'rejected', rejected_reason: 'boost too aggressive' });
    expect(await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: ids.manual } })).toMatchObject({
      status: 'rejected',
      rejectedReason: 'boost too aggressive',
    });
    const again = await h.request('POST', `/api/v1/proposals/${ids.manual}/reject`);
    expect(again.status).toBe(409);
    expect(again.body.detail.error_code).toBe('INVALID_STATE_TRANSITION');
    expect(await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: ids.manual } })).toMatchObject({
      status: 'rejected',
      rejectedReason: 'boost too aggressive',
    });
  });

  test('GET /proposals filters by status and cluster', async () => {
    const pending = await h.request('GET', '/api/v1/proposals?status=pending');
    expect(pending.body.data.map((p: { id: string }) => p.id)).toEqual([ids.backed]);
    expect(pending.headers.get('x-total-count')).toBe('1');
    const rejected = await h.request('GET', `/api/v1/proposals?status=rejected&cluster_id=${ids.cluster}`);
    expect(rejected.body.data.map((p: { id: string }) => p.id)).toEqual([ids.manual]);
    const all = await h.request('GET', `/api/v1/proposals?cluster_id=${ids.cluster}`);
    expect(all.body.data.map((p: { id: string }) => p.id)).toEqual([ids.backed, ids.manual]);
    const none = await h.request('GET', '/api/v1/proposals?status=pr_merged');
    expect(none.body).toEqual({ data: [], next_cursor: null, has_more: false });
    expect(none.headers.get('x-total-count')).toBe('0');
  });

  test('POST /proposals/{id}/reject without a body stores no reason', async () => {
    const res = await h.request('POST', `/api/v1/proposals/${ids.backed}/reject`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'rejected', rejected_reason: null });
    expect(await h.db.prisma.proposal.findUniqueOrThrow({ where: { id: ids.backed } })).toMatchObject({
      status: 'rejected',
      rejectedReason: null,
    });
  });
});
