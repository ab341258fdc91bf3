import { describe, expect, test } from '@jest/globals';
import path from 'node:path';
import { policyOf } from '../../activities/index.js';
import { DEFAULT_GIT_IDLE_TIMEOUT_MS } from '../../adapters/git/git-http-client.js';
import { DEFAULT_STATEMENT_TIMEOUT_MS } from '../../db/database.js';
import { GITHUB_PACING_RULES } from '../../domain/github-pacing.js';
import { ConfigError, loadConfig, SETTINGS } from '../../domain/config.js';
import { DEFAULT_OPEN_PR_POLICY } from '../../domain/open-pr-contracts.js';

const cwd = '/srv/relyloop';

describe('loadConfig', () => {
  test('defaults are complete and resolved against the working directory', () => {
    const config = loadConfig({}, cwd);
    expect(config).toEqual({
      dataDir: '/srv/relyloop/data',
      databaseUrl: undefined,
      temporalAddress: undefined,
      temporalNamespace: 'relyloop',
      temporalTaskQueue: 'relyloop-pr',
      temporalUiUrl: 'http://localhost:8233',
      temporalCli: undefined,
      temporalDevConfig: '/srv/relyloop/temporal-dev.yaml',
      secretsDir: '/srv/relyloop/secrets',
      repoCacheDir: '/srv/relyloop/data/repo-cache',
      apiHost: '127.0.0.1',
      apiPort: 8080,
      apiTokenFile: '/srv/relyloop/secrets/api_token',
      gitAuthorName: 'relyloop-bot',
      gitAuthorEmail: 'relyloop-bot@example.com',
      relyloopBaseUrl: undefined,
      githubHosts: { hosts: ['github.com'], httpHosts: [] },
      giteaHosts: { hosts: [], httpHosts: [] },
      giteaWriteGap: 0,
      dbStatementTimeout: 5_000,
      gitIdleTimeout: 30_000,
      heartbeatTimeout: 10_000,
      gitWorkerStartTimeout: 10_000,
      gitRetryBudget: 300_000,
      githubRetryBudget: 600_000,
      githubWriteGap: 1_000,
      workerMaxCachedWorkflows: 500,
      gitMaxConcurrent: 8,
      reconcileInterval: 900_000,
      reconcileClosedWindow: 2_592_000_000,
      mergeChecksTimeout: 259_200_000,
      mergeReadBack: 300_000,
      dbRetryBudget: 300_000,
      shutdownGrace: 30_000,
      logLevel: 'info',
      host: { PATH: '/usr/bin:/bin', HOME: '/' },
    });
  });

  test("a write gap below GitHub's 1s is refused while github.com or a ghe.com host is allowed, and accepted for a sandbox or GHES", () => {
    expect(() => loadConfig({ RELYLOOP_GITHUB_WRITE_GAP: '500ms' }, cwd)).toThrow(
      /^Invalid configuration:\n {2}RELYLOOP_GITHUB_WRITE_GAP="500ms": below GitHub's published 1s while RELYLOOP_GITHUB_HOSTS lists github.com$/,
    );
    expect(() =>
      loadConfig({ RELYLOOP_GITHUB_WRITE_GAP: '0s', RELYLOOP_GITHUB_HOSTS: 'ghe.example.com,octo.ghe.com' }, cwd),
    ).toThrow(/lists octo\.ghe\.com$/);
    expect(
      loadConfig({ RELYLOOP_GITHUB_WRITE_GAP: '0s', RELYLOOP_GITHUB_HOSTS: '127.0.0.1:8787,ghe.example.com' }, cwd)
        .githubWriteGap,
    ).toBe(0);
    expect(loadConfig({ RELYLOOP_GITHUB_WRITE_GAP: '1.5s' }, cwd).githubWriteGap).toBe(1_500);
  });

  test('the host environment child processes get: PATH, HOME and the cache dir, nothing else', () => {
    expect(
      loadConfig(
        { PATH: '/opt/bin:/usr/bin', HOME: '/home/op', XDG_CACHE_HOME: '/var/cache/op', GH_TOKEN: 'ghp_x' },
        cwd,
      ).host,
    ).toEqual({ PATH: '/opt/bin:/usr/bin', HOME: '/home/op', XDG_CACHE_HOME: '/var/cache/op' });
  });

  test('the reliability defaults match the constants the workflow, the database and git fall back on', () => {
    const config = loadConfig({}, cwd);
    expect(policyOf(config)).toEqual(DEFAULT_OPEN_PR_POLICY);
    expect(config.dbStatementTimeout).toBe(DEFAULT_STATEMENT_TIMEOUT_MS);
    expect(config.gitIdleTimeout).toBe(DEFAULT_GIT_IDLE_TIMEOUT_MS);
    expect(config.githubWriteGap).toBe(GITHUB_PACING_RULES.writeGapMs);
  });

  test('derived paths follow their base settings unless set', () => {
    const config = loadConfig({ RELYLOOP_DATA_DIR: '/var/lib/rl', RELYLOOP_SECRETS_DIR: 'sec' }, cwd);
    expect(config.repoCacheDir).toBe('/var/lib/rl/repo-cache');
    expect(config.apiTokenFile).toBe(path.join(cwd, 'sec', 'api_token'));
    expect(loadConfig({ RELYLOOP_REPO_CACHE_DIR: '/cache' }, cwd).repoCacheDir).toBe('/cache');
  });

  test.each([
    ['DATABASE_URL', 'postgres://u:p@db:5432/relyloop', 'databaseUrl', 'postgres://u:p@db:5432/relyloop'],
    ['TEMPORAL_ADDRESS', 'temporal.internal:7233', 'temporalAddress', 'temporal.internal:7233'],
    ['RELYLOOP_API_PORT', '9000', 'apiPort', 9000],
    [
      'RELYLOOP_GITHUB_HOSTS',
      'github.com, GHE.Example.com, http://127.0.0.1:8787',
      'githubHosts',
      { hosts: ['github.com', 'ghe.example.com', '127.0.0.1:8787'], httpHosts: ['127.0.0.1:8787'] },
    ],
    ['RELYLOOP_BASE_URL', 'https://relyloop.example.com/', 'relyloopBaseUrl', 'https://relyloop.example.com'],
    ['TEMPORAL_UI_URL', 'https://temporal.example.com/', 'temporalUiUrl', 'https://temporal.example.com'],
    ['LOG_LEVEL', 'debug', 'logLevel', 'debug'],
    ['RELYLOOP_GIT_AUTHOR_EMAIL', 'bot@corp.example', 'gitAuthorEmail', 'bot@corp.example'],
    ['RELYLOOP_DB_STATEMENT_TIMEOUT', '750ms', 'dbStatementTimeout', 750],
    ['RELYLOOP_GIT_IDLE_TIMEOUT', '1.5m', 'gitIdleTimeout', 90_000],
    ['RELYLOOP_GITHUB_RETRY_BUDGET', '1h', 'githubRetryBudget', 3_600_000],
    [
      'RELYLOOP_GITEA_HOSTS',
      'Git.Example.com, http://127.0.0.1:3000',
      'giteaHosts',
      { hosts: ['git.example.com', '127.0.0.1:3000'], httpHosts: ['127.0.0.1:3000'] },
    ],
    ['RELYLOOP_GITEA_WRITE_GAP', '250ms', 'giteaWriteGap', 250],
    ['RELYLOOP_SHUTDOWN_GRACE', '0s', 'shutdownGrace', 0],
  ])('%s=%s is accepted', (env, value, key, expected) => {
    expect(loadConfig({ [env]: value }, cwd)[key as keyof ReturnType<typeof loadConfig>]).toEqual(expected);
  });

  test.each([
    ['RELYLOOP_API_PORT', 'eighty'],
    ['RELYLOOP_API_PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['DATABASE_URL', 'not a url'],
    ['TEMPORAL_ADDRESS', 'http://localhost:7233'],
    ['TEMPORAL_ADDRESS', 'localhost'],
    ['LOG_LEVEL', 'verbose'],
    ['RELYLOOP_GIT_AUTHOR_EMAIL', 'not-an-email'],
    ['RELYLOOP_BASE_URL', 'ftp://relyloop.example.com'],
    ['RELYLOOP_GITHUB_HOSTS', 'github.com,evil.example/path'],
    ['RELYLOOP_GITHUB_HOSTS', ' , '],
    ['RELYLOOP_GITHUB_HOSTS', 'http://github.com'],
    ['RELYLOOP_GIT_IDLE_TIMEOUT', '30'],
    ['RELYLOOP_GIT_IDLE_TIMEOUT', '30 s'],
    ['RELYLOOP_HEARTBEAT_TIMEOUT', '1s'],
    ['RELYLOOP_DB_STATEMENT_TIMEOUT', '-5s'],
    ['RELYLOOP_GIT_RETRY_BUDGET', '2d'],
    ['RELYLOOP_GITHUB_WRITE_GAP', '2m'],
    ['RELYLOOP_GITEA_HOSTS', 'ssh://git.example.com'],
    ['RELYLOOP_GITEA_HOSTS', 'https://git.example.com/sub/path'],
    ['RELYLOOP_GITEA_HOSTS', 'github.com'],
    ['RELYLOOP_GIT_MAX_CONCURRENT', '0'],
    ['RELYLOOP_WORKER_MAX_CACHED_WORKFLOWS', 'many'],
  ])('%s=%s stops start-up with a message naming the variable', (env, value) => {
    expect(() => loadConfig({ [env]: value }, cwd)).toThrow(ConfigError);
    expect(() => loadConfig({ [env]: value }, cwd)).toThrow(new RegExp(`^Invalid configuration:\\n  ${env}=`));
  });

  test.each([
    ['RELYLOOP_GITHUB_HTTP_HOSTS', '127.0.0.1:8787', /RELYLOOP_GITHUB_HOSTS as http:\/\/host:port/],
    ['TEMPORAL_CLI', '/opt/temporal', /on PATH/],
  ])('%s, a setting of an earlier release, stops start-up saying what to do instead', (env, value, instead) => {
    expect(() => loadConfig({ [env]: value }, cwd)).toThrow(
      new RegExp(`^Invalid configuration:\\n  ${env}: removed; `),
    );
    expect(() => loadConfig({ [env]: value }, cwd)).toThrow(instead);
    expect(loadConfig({ [env]: '' }, cwd).githubHosts.hosts).toEqual(['github.com']);
  });

  test('every bad value is reported at once', () => {
    const error = (() => {
      try {
        loadConfig({ RELYLOOP_API_PORT: 'x', LOG_LEVEL: 'loud' }, cwd);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.problems.map((p) => p.split('=')[0])).toEqual(['RELYLOOP_API_PORT', 'LOG_LEVEL']);
  });

  test('every setting has an env var and a doc line', () => {
    for (const s of Object.values(SETTINGS)) {
      expect(s.env).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(s.doc.length).toBeGreaterThan(10);
    }
  });
});

describe('docs/configuration.md', () => {
  test('is the rendering of the settings table (run `npm run config-docs` after changing settings)', async () => {
    const { readFile } = await import('node:fs/promises');
    const { renderConfigDocs } = await import('../../domain/config-docs.js');
    const committed = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigDocs());
  });
});
