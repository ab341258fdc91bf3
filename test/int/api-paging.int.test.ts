// Cursor paging (docs/api.md): newest first by (created_at, id), limit 1–200, X-Total-Count. A walk
// over 450 rows — many sharing one created_at, many differing only in microseconds — returns
// every row exactly once, in order, on PostgreSQL and PGlite.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startApiHarness, type ApiHarness, type DbKind } from '../support/api-harness.js';

async function walk(
  h: ApiHarness,
  path: string,
  limit: number,
  start: string | null = null,
): Promise<{ ids: string[]; pages: number; totals: Set<string> }> {
  const ids: string[] = [];
  const totals = new Set<string>();
  let cursor: string | null = start;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await h.request('GET', `${path}${sep}limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
    expect(res.status).toBe(200);
    totals.add(res.headers.get('x-total-count') ?? 'missing');
    expect(res.body.data.length).toBeLessThanOrEqual(limit);
    expect(res.body.has_more).toBe(res.body.next_cursor !== null);
    ids.push(...res.body.data.map((r: { id: string }) => r.id));
    cursor = res.body.next_cursor;
    pages += 1;
    if (pages > 1000) throw new Error('the walk does not end');
  } while (cursor !== null);
  return { ids, pages, totals };
}

describe.each<DbKind>(['postgres', 'pglite'])('paging on %s', (kind) => {
  let h: ApiHarness;
  let expected: string[];
  let pendingExpected: string[];

  beforeAll(async () => {
    h = await startApiHarness({ kind });
    // Timestamps lie in the past, so rows the API creates during a test are the newest.
    // 150 rows with one identical created_at, 150 one microsecond apart inside the same
    // millisecond (a JS Date cannot tell them apart), 150 a second apart.
    await h.db.sql.query(`
      INSERT INTO clusters (name, created_at)
      SELECT 'c' || g,
             CASE WHEN g <= 150 THEN '2020-03-01T10:00:00.123456Z'::timestamptz
                  WHEN g <= 300 THEN '2020-03-01T09:00:00.123000Z'::timestamptz + make_interval(secs => (g - 150) / 1000000.0)
                  ELSE '2020-03-01T08:00:00Z'::timestamptz - make_interval(secs => g) END
        FROM generate_series(1, 450) g`);
    const rows = await h.db.sql.query<{ id: string }>(
      'SELECT id::text AS id FROM clusters ORDER BY created_at DESC, id DESC',
    );
    expected = rows.map((r) => r.id);
    // Proposals for the filter walk: one cluster, one template, a mix of statuses, equal timestamps.
    const [cluster] = rows;
    const [template] = await h.db.sql.query<{ id: string }>(
      `INSERT INTO query_templates (cluster_id, name, declared_params) VALUES ($1::uuid, 't', '{a}') RETURNING id::text AS id`,
      [cluster?.id],
    );
    await h.db.sql.query(
      `
      INSERT INTO proposals (cluster_id, template_id, config_diff, status, created_at)
      SELECT $1::uuid, $2::uuid, '{"a":{"from":1,"to":2}}', (CASE WHEN g % 3 = 0 THEN 'rejected' ELSE 'pending' END)::proposal_status,
             '2020-03-02T00:00:00.000001Z'::timestamptz + make_interval(secs => (g % 7) / 1000000.0)
        FROM generate_series(1, 120) g`,
      [cluster?.id, template?.id],
    );
    const pending = await h.db.sql.query<{ id: string }>(
      `SELECT id::text AS id FROM proposals WHERE status = 'pending' ORDER BY created_at DESC, id DESC`,
    );
    pendingExpected = pending.map((r) => r.id);
    // Recorded failures for the triage filters: a quarter CLONE_FAILED, a quarter PARAM_NOT_IN_TEMPLATE,
    // an eighth a precondition the load step found broken.
    await h.db.sql.query(`
      WITH n AS (SELECT id, row_number() OVER (ORDER BY id) AS r FROM proposals)
      UPDATE proposals p SET pr_open_error = CASE WHEN n.r % 4 = 0 THEN 'CLONE_FAILED: git fetch failed: HTTP 502'
                                                   WHEN n.r % 4 = 1 THEN 'PARAM_NOT_IN_TEMPLATE: bm25.k1 is not declared'
                                                   WHEN n.r % 8 = 2 THEN 'CLUSTER_HAS_NO_CONFIG_REPO: cluster c has no config repo' END
        FROM n WHERE p.id = n.id`);
  });
  afterAll(async () => {
    await h.close();
  });

  test.each([7, 50, 200])(
    'walking 450 clusters with limit %i returns each exactly once, newest first',
    async (limit) => {
      const { ids, pages, totals } = await walk(h, '/api/v1/clusters', limit);
      expect(ids).toHaveLength(450);
      expect(new Set(ids).size).toBe(450);
      expect(ids).toEqual(expected);
      expect(pages).toBe(Math.ceil(450 / limit));
      expect([...totals]).toEqual(['450']);
    },
  );

  test('the default limit is 50', async () => {
    const res = await h.request('GET', '/api/v1/clusters');
    expect(res.body.data).toHaveLength(50);
    expect(res.body.has_more).toBe(true);
  });

  test('a filtered walk (status=pending) returns exactly the pending proposals', async () => {
    const { ids, totals } = await walk(h, '/api/v1/proposals?status=pending', 9);
    expect(ids).toEqual(pendingExpected);
    expect(pendingExpected).toHaveLength(80);
    expect([...totals]).toEqual(['80']);
  });

  test.each([
    ['has_error=true', 'pr_open_error IS NOT NULL', 75],
    ['has_error=false', 'pr_open_error IS NULL', 45],
    ['error_code=CLONE_FAILED', "pr_open_error LIKE 'CLONE\\_FAILED: %'", 30],
    // A load-step code is recorded like the others, and filtered like them.
    ['error_code=CLUSTER_HAS_NO_CONFIG_REPO', "pr_open_error LIKE 'CLUSTER\\_HAS\\_NO\\_CONFIG\\_REPO: %'", 15],
    // Which of them are pending depends on the random ids: the count comes from the database.
    [
      'status=pending&error_code=PARAM_NOT_IN_TEMPLATE',
      "status = 'pending' AND pr_open_error LIKE 'PARAM\\_NOT\\_IN\\_TEMPLATE: %'",
      null,
    ],
    ['error_code=BRANCH_EXISTS', 'false', 0],
  ])('a triage walk (%s) returns exactly the proposals carrying that failure', async (query, where, fixed) => {
    const rows = await h.db.sql.query<{ id: string }>(
      `SELECT id::text AS id FROM proposals WHERE ${where} ORDER BY created_at DESC, id DESC`,
    );
    const count = fixed ?? rows.length;
    if (fixed === null) expect(count).toBeGreaterThan(0);
    const { ids, totals } = await walk(h, `/api/v1/proposals?${query}`, 7);
    expect(ids).toEqual(rows.map((r) => r.id));
    expect([ids.length, [...totals]]).toEqual([count, [String(count)]]);
  });

  test('an unknown error code is a 422 on error_code', async () => {
    const res = await h.request('GET', '/api/v1/proposals?error_code=NOPE');
    expect([res.status, res.body.detail.field]).toEqual([422, 'error_code']);
  });

  test('rows created during a walk do not repeat or shift the rows already paged', async () => {
    const first = await h.request('GET', '/api/v1/clusters?limit=100');
    await h.request('POST', '/api/v1/clusters', { body: { name: 'late arrival' } });
    const rest = await walk(h, '/api/v1/clusters', 100, first.body.next_cursor);
    const ids = [...first.body.data.map((r: { id: string }) => r.id), ...rest.ids];
    expect(ids).toEqual(expected);
  });
});
