// GitHub sandbox for tests: git smart HTTP via `git http-backend` and the REST calls the
// product makes, on 127.0.0.1. Two layouts: GitHub Enterprise over plain http (REST under /api/v3),
// and github.com's over https (`tls`): git and web on `{hostname}`, REST at the root of
// `api.{hostname}`, with a throwaway CA (tls.ts); the names resolve through the caller.
// Every request is recorded; REST bodies and queries, and the sandbox's own REST answers, are
// checked against GitHub's OpenAPI description; it keeps time on a clock tests can advance
// (clock.ts); faults can be injected per test.
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SandboxClock } from './clock.js';
import { FaultQueue } from './faults.js';
import { BufferedAnswer, serveGitRequest } from './git-http.js';
import { FULL_ACCESS, accessOf, satisfies } from './access.js';
import { GITHUB_RATE_LIMITS, RateLimiter } from './rate-limits.js';
import { assertRepoName, createBareRepo, generatedFiles, type RepoRecord } from './repos.js';
import { writePushRules } from './rules.js';
import { createSandboxTls } from './tls.js';
import { RestApi } from './rest.js';
import { handleGraphql } from './graphql.js';
import type {
  CredentialEcho,
  GitHubSandbox,
  HeldRequest,
  RecordedRequest,
  StartGitHubSandboxOptions,
} from './types.js';
import { orgHookKey, WebhookDispatcher } from './webhooks.js';
import { AppRegistry } from './apps.js';
import { repoJson, SANDBOX_USER, userJson } from './rest-json.js';

export type * from './types.js';

const GIT_PATH = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack|HEAD)$/;

export async function startGitHubSandbox(opts: StartGitHubSandboxOptions = {}): Promise<GitHubSandbox> {
  const ownsRoot = opts.rootDir === undefined;
  const root = opts.rootDir ?? (await mkdtemp(path.join(tmpdir(), 'gh-sandbox-')));
  const home = path.join(root, 'home');
  const projectRoot = path.join(root, 'repos');
  await mkdir(home, { recursive: true });
  await mkdir(projectRoot, { recursive: true });

  const repos = new Map<string, RepoRecord>();
  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];
  const validationFailures: string[] = [];
  const answerFailures: string[] = [];
  const bareDir = (owner: string, repo: string): string => {
    assertRepoName(owner, repo);
    return path.join(projectRoot, owner, `${repo}.git`);
  };
  const knownTokens = new Set<string>();
  const clock = opts.clock ?? new SandboxClock();
  const limiter = new RateLimiter({ ...GITHUB_RATE_LIMITS, ...opts.rateLimits }, () => clock.now());
  const tlsHost = opts.tls?.hostname.toLowerCase();
  let origin = '';
  let apiBase = '';
  const webhooks = new WebhookDispatcher(validationFailures);
  const apps = new AppRegistry({ repos, knownTokens, clock, origin: () => origin, apiBase: () => apiBase });
  const rest = new RestApi({
    clock,
    repos,
    knownTokens,
    limiter,
    home,
    validationFailures,
    answerFailures,
    apps,
    origin: () => origin,
    apiBase: () => apiBase,
    emit: (repo, event, payload) => webhooks.emit(repo, event, payload),
  });

  /** Why GitHub would refuse this git request (access.ts), or undefined to serve it. */
  function gitAccessDenial(
    match: RegExpExecArray,
    service: string | null,
    authorization: string | undefined,
  ): { status: number; text: string } | undefined {
    apps.sweep();
    const credential = basicCredential(authorization);
    // Like GitHub for a private repo: ask for credentials before saying anything else.
    if (credential === null) return { status: 401, text: 'Authentication required.\n' };
    const key = `${match[1]}/${match[2]}`;
    const access = accessOf(repos, knownTokens, key, credential.token);
    if (access.kind === 'unknown_token')
      return {
        status: 401,
        text: 'Invalid username or token. Password authentication is not supported for Git operations.\n',
      };
    if (access.kind === 'hidden') return { status: 404, text: 'Repository not found.\n' };
    const pushing = match[3] === 'git-receive-pack' || service === 'git-receive-pack';
    if (!satisfies(access.grant, { contents: pushing ? 'write' : 'read' }))
      return { status: 403, text: `Permission to ${key}.git denied to ${credential.user}.\n` };
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const method = req.method ?? 'GET';
    // github.com layout: everything on the api host is REST, at the root.
    const onApiHost = tlsHost !== undefined && (req.headers.host ?? '').toLowerCase().startsWith(`api.${tlsHost}`);
    // GraphQL: /api/graphql beside /api/v3 (Enterprise), /graphql on the api host (github.com).
    const graphqlCall = method === 'POST' && url.pathname === (onApiHost ? '/graphql' : '/api/graphql');
    const kind = onApiHost || graphqlCall || url.pathname.startsWith('/api/v3/') ? 'rest' : 'git';
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: flatHeaders(req),
      body: body.toString(kind === 'git' ? 'latin1' : 'utf8'),
      status: 0,
      kind,
      receivedAt: Date.now(),
    };
    requests.push(record);

    const fault = faults.take(method, url.pathname, url.search);
    if (fault !== undefined && 'reset' in fault) {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault !== undefined && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    const hold = fault !== undefined && 'hold' in fault ? fault : undefined;
    if (hold?.when === 'before') await holdHere(hold.hold, record);
    if (fault !== undefined && 'status' in fault) {
      record.status = fault.status;
      const echoed =
        fault.echoCredential === undefined ? undefined : echoOf(req.headers.authorization, fault.echoCredential);
      const body =
        echoed === undefined
          ? (fault.body ?? { message: 'Injected fault' })
          : { message: `Invalid credentials: ${echoed}` };
      sendJson(res, fault.status, body, fault.headers, echoed === undefined ? fault.statusMessage : `Denied ${echoed}`);
      return;
    }

    // Served into a buffer when the answer is to be held or dropped after the server acted.
    const deferred = hold?.when === 'after' || (fault !== undefined && 'dropAnswer' in fault);
    let send: () => void = () => undefined;
    if (kind === 'rest') {
      const answer = graphqlCall
        ? await handleGraphql(
            { rest, repos, knownTokens, validationFailures, clock },
            { headers: record.headers, body: record.body },
          )
        : await rest.handle({
            method,
            pathname: onApiHost ? url.pathname : url.pathname.slice('/api/v3'.length),
            query: record.query,
            headers: record.headers,
            body: record.body,
          });
      record.status = answer.status;
      send = () => {
        sendJson(res, answer.status, answer.body, answer.headers);
        record.answeredAt = Date.now();
      };
    } else {
      const match = GIT_PATH.exec(url.pathname);
      const denied =
        match === null
          ? { status: 404, text: 'Not Found\n' }
          : gitAccessDenial(match, url.searchParams.get('service'), req.headers.authorization);
      if (denied !== undefined) {
        record.status = denied.status;
        res
          .writeHead(denied.status, {
            'content-type': 'text/plain',
            ...(denied.status === 401 ? { 'www-authenticate': 'Basic realm="GitHub"' } : {}),
          })
          .end(denied.text);
        return;
      }
      const repo = repos.get(`${match?.[1]}/${match?.[2]}`) as RepoRecord;
      const user = (basicCredential(req.headers.authorization) as { user: string }).user;
      const sink = deferred ? new BufferedAnswer() : res;
      record.status = await serveGitRequest({
        req,
        res: sink,
        body,
        projectRoot,
        home,
        remoteUser: user,
        pathInfo: `/${repo.owner}/${repo.repo}.git/${match?.[3]}`,
        queryString: url.search.replace(/^\?/, ''),
      });
      if (match?.[3] === 'git-receive-pack' && record.status === 200) repo.lastPushAt = clock.now();
      if (sink instanceof BufferedAnswer) send = () => sink.sendTo(res);
    }
    if (fault !== undefined && 'dropAnswer' in fault) {
      req.socket.resetAndDestroy();
      return;
    }
    if (hold?.when === 'after') await holdHere(hold.hold, record);
    if (!res.destroyed) send();
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: `sandbox error: ${String(error)}` });
      else res.destroy();
    });
  };
  const tls = tlsHost === undefined ? undefined : await createSandboxTls(root, tlsHost);
  const server =
    tls === undefined ? createServer(onRequest) : createHttpsServer({ key: tls.key, cert: tls.cert }, onRequest);
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const host = `${tlsHost ?? '127.0.0.1'}:${port}`;
  origin = `${tls === undefined ? 'http' : 'https'}://${host}`;
  apiBase = tls === undefined ? `${origin}/api/v3` : `https://api.${host}`;

  async function register(
    owner: string,
    repo: string,
    token: string,
    branch: string,
    files: Parameters<typeof createBareRepo>[0]['files'],
  ) {
    const dir = bareDir(owner, repo);
    const result = await createBareRepo({ bareDir: dir, home, branch, files });
    knownTokens.add(token);
    repos.set(`${owner}/${repo}`, {
      owner,
      repo,
      defaultBranch: branch,
      bareDir: dir,
      access: new Map([[token, { ...FULL_ACCESS }]]),
      lastPushAt: 0,
      consistencyLagMs: 0,
      collaborators: new Set(),
      teams: new Set(),
    });
    rest.resetRepo(owner, repo);
    return result;
  }

  function repoOf(owner: string, repo: string): RepoRecord {
    const record = repos.get(`${owner}/${repo}`);
    if (record === undefined) throw new Error(`no sandbox repo ${owner}/${repo}`);
    return record;
  }

  return {
    origin,
    host,
    apiBaseUrl: apiBase,
    caFile: tls?.caFile,
    hostnames: tlsHost === undefined ? [] : [tlsHost, `api.${tlsHost}`],
    repoUrl: (owner, repo) => `${origin}/${owner}/${repo}`,
    gitUrl: (owner, repo) => `${origin}/${owner}/${repo}.git`,
    bareDir,
    createRepo: ({ owner, repo, token, defaultBranch = 'main', files }) =>
      register(owner, repo, token, defaultBranch, Object.entries(files)),
    createLargeRepo: ({ owner, repo, token, fileCount, defaultBranch = 'main', extraFiles }) =>
      register(owner, repo, token, defaultBranch, generatedFiles(fileCount, extraFiles)),
    grantAccess: ({ owner, repo, token, permissions }) => {
      knownTokens.add(token);
      const record = repoOf(owner, repo);
      if (permissions === null) record.access.delete(token);
      else record.access.set(token, { contents: 'none', pull_requests: 'none', issues: 'none', ...permissions });
    },
    setPushRules: (owner, repo, rules) =>
      writePushRules(repoOf(owner, repo).bareDir, `${origin}/${owner}/${repo}`, rules),
    setConsistencyLag: (owner, repo, ms) => {
      repoOf(owner, repo).consistencyLagMs = ms;
    },
    createApp: (appId) => apps.createApp(appId),
    installApp: ({ appId, owner, repo, permissions }) => {
      repoOf(owner, repo);
      return apps.install(appId, owner, repo, {
        contents: 'write',
        pull_requests: 'write',
        issues: 'write',
        ...permissions,
      });
    },
    setAppTokenTtl: (ms) => {
      apps.tokenTtlMs = ms;
    },
    isVerifiedCommit: (owner, repo, sha) => rest.gitData.isVerified(repoOf(owner, repo), sha),
    appTokensIssued: apps.issuedTokens,
    setRequiredChecks: (owner, repo, branch, names) => {
      repoOf(owner, repo);
      rest.checksOf(owner, repo).required.set(branch, [...names]);
    },
    setMergeQueue: (owner, repo, branch, on) => {
      repoOf(owner, repo);
      const queues = rest.checksOf(owner, repo).mergeQueues;
      if (on) queues.add(branch);
      else queues.delete(branch);
    },
    setAutoMergeAllowed: (owner, repo, allowed) => {
      repoOf(owner, repo);
      rest.checksOf(owner, repo).autoMergeAllowed = allowed;
    },
    addCollaborators: (owner, repo, { users = [], teams = [] }) => {
      const record = repoOf(owner, repo);
      for (const u of users) record.collaborators.add(u.toLowerCase());
      for (const t of teams) record.teams.add(t.toLowerCase());
    },
    setRateLimits: (settings) => limiter.configure(settings),
    rateLimitRefusals: limiter.refusals,
    injectFaults: (spec) => faults.add(spec),
    holdNext: (match) => faults.hold(match),
    injectRandomFaults: (spec) => faults.addRandom(spec),
    faultCounts: faults.counts,
    clearFaults: () => faults.clear(),
    requests,
    clock,
    validationFailures,
    answerFailures,
    pulls: (owner, repo) => rest.pulls(owner, repo),
    comments: (owner, repo, issueNumber) => rest.comments(owner, repo, issueNumber),
    seedComments: (owner, repo, issueNumber, bodies) => rest.seedComments(owner, repo, issueNumber, bodies),
    configureWebhook: (owner, repo, settings) =>
      webhooks.configure(`${repoOf(owner, repo).owner}/${repoOf(owner, repo).repo}`, settings),
    injectWebhookFaults: (owner, repo, list) => webhooks.injectFaults(`${owner}/${repo}`, list),
    pingWebhook: (owner, repo) => {
      const ctx = { origin, api: apiBase, repo: repoOf(owner, repo) };
      const hook = webhooks.hookOf(`${owner}/${repo}`);
      if (hook === undefined) throw new Error(`no sandbox webhook on ${owner}/${repo}`);
      const hookId = hook.id;
      webhooks.emit(`${owner}/${repo}`, 'ping', {
        zen: 'Keep it logically awesome.',
        hook_id: hookId,
        hook: {
          type: 'Repository',
          id: hookId,
          name: 'web',
          active: true,
          events: ['pull_request'],
          config: { content_type: 'json', insecure_ssl: '0', url: hook.url },
          updated_at: clock.iso(),
          created_at: clock.iso(),
          url: `${apiBase}/repos/${owner}/${repo}/hooks/${hookId}`,
          test_url: `${apiBase}/repos/${owner}/${repo}/hooks/${hookId}/test`,
          ping_url: `${apiBase}/repos/${owner}/${repo}/hooks/${hookId}/pings`,
          deliveries_url: `${apiBase}/repos/${owner}/${repo}/hooks/${hookId}/deliveries`,
          last_response: { code: null, status: 'unused', message: null },
        },
        repository: repoJson(ctx),
        sender: userJson(ctx, SANDBOX_USER.login, SANDBOX_USER.id),
      });
    },
    configureOrgWebhook: (owner, settings) => webhooks.configure(orgHookKey(owner), settings),
    pingOrgWebhook: (owner) => {
      const hook = webhooks.hookOf(orgHookKey(owner));
      if (hook === undefined) throw new Error(`no sandbox organisation webhook on ${owner}`);
      const ctx = { origin, api: apiBase, repo: { owner } as RepoRecord };
      const at = clock.iso();
      const orgApi = `${apiBase}/orgs/${owner}`;
      webhooks.emit(orgHookKey(owner), 'ping', {
        zen: 'Keep it logically awesome.',
        hook_id: hook.id,
        hook: {
          type: 'Organization',
          id: hook.id,
          name: 'web',
          active: true,
          events: ['pull_request'],
          config: { content_type: 'json', insecure_ssl: '0', url: hook.url },
          updated_at: at,
          created_at: at,
          url: `${orgApi}/hooks/${hook.id}`,
          ping_url: `${orgApi}/hooks/${hook.id}/pings`,
          deliveries_url: `${orgApi}/hooks/${hook.id}/deliveries`,
        },
        organization: {
          login: owner,
          id: 2,
          node_id: 'O_2',
          url: orgApi,
          repos_url: `${orgApi}/repos`,
          events_url: `${orgApi}/events`,
          hooks_url: `${orgApi}/hooks`,
          issues_url: `${orgApi}/issues`,
          members_url: `${orgApi}/members{/member}`,
          public_members_url: `${orgApi}/public_members{/member}`,
          avatar_url: `${origin}/avatars/u/2`,
          description: null,
        },
        sender: userJson(ctx, SANDBOX_USER.login, SANDBOX_USER.id),
      });
    },
    webhookDeliveries: webhooks.deliveries,
    redeliverWebhook: (id) => webhooks.redeliver(id),
    webhooksSettled: () => webhooks.settled(),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownsRoot) await rm(root, { recursive: true, force: true });
      if (answerFailures.length > 0)
        throw new Error(
          `the sandbox answered ${answerFailures.length} time(s) off GitHub's published response schemas:\n${answerFailures.slice(0, 5).join('\n')}`,
        );
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The token a Basic header carries (the password, or a user-only header's user) and the user name. */
function basicCredential(header: string | undefined): { token: string; user: string } | null {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (match?.[1] === undefined) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1 || decoded.slice(colon + 1) === '')
    return decoded === '' ? null : { token: colon === -1 ? decoded : decoded.slice(0, colon), user: 'token-user' };
  return { token: decoded.slice(colon + 1), user: decoded.slice(0, colon) || 'x-access-token' };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  statusMessage?: string,
): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status, statusMessage ?? STATUS_CODES[status] ?? '', headers).end();
    return;
  }
  res
    .writeHead(status, statusMessage ?? STATUS_CODES[status] ?? '', {
      'content-type': 'application/json; charset=utf-8',
      ...headers,
    })
    .end(JSON.stringify(body));
}

/** Parks the request at a hold until the test releases it. */
async function holdHere(held: HeldRequest, record: RecordedRequest): Promise<void> {
  const h = held as HeldRequest & { arrive(r: RecordedRequest): void; released: Promise<void> };
  h.arrive(record);
  await h.released;
}

/**
 * The credential a request carried, as a server echoing it would print it: a Basic header's
 * base64 value as sent, a token base64-encoded (docs/architecture.md "Security rules": neither may
 * reach a stored text).
 */
function echoOf(authorization: string | undefined, how: CredentialEcho): string | undefined {
  if (authorization === undefined) return undefined;
  if (how === 'raw') return authorization;
  if (how === 'header_base64') return Buffer.from(`Authorization: ${authorization}`).toString('base64');
  const basic = /^Basic\s+(\S+)$/i.exec(authorization)?.[1];
  if (basic !== undefined) return basic;
  const token = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization)?.[1];
  return token === undefined ? undefined : Buffer.from(`credential=${token}`).toString('base64');
}
