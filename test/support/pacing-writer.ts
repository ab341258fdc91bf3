// A worker-like process for the pacing test (test/int/github-pacing.int.test.ts): it opens the
// service database, paces its GitHub writes through it as a worker does, and makes `count` writes
// (closing PR `number`) at once, then exits. Arguments: a JSON object on argv[2].
import { createGitHubClient } from '../../adapters/github/github-client.js';
import { openDatabase } from '../../db/database.js';
import { createDbGitHubPacer } from '../../db/github-pacing.js';
import type { GitHubPacingRules } from '../../domain/github-pacing.js';
import { Redactor } from '../../domain/redact.js';

interface Args {
  databaseUrl: string;
  apiBaseUrl: string;
  token: string;
  owner: string;
  repo: string;
  number: number;
  count: number;
  rules: GitHubPacingRules;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const db = await openDatabase({ url: args.databaseUrl, pgliteDir: '' });
try {
  const pacer = createDbGitHubPacer(db.sql, args.rules);
  const client = () =>
    createGitHubClient({
      apiBaseUrl: args.apiBaseUrl,
      token: args.token,
      owner: args.owner,
      repo: args.repo,
      redactor: new Redactor(),
      pacer,
    });
  await Promise.all(Array.from({ length: args.count }, () => client().closePullRequest(args.number)));
} finally {
  await db.close();
}
