// Webhook deliveries of the sandbox, as GitHub makes them for a repository
// webhook and an organisation webhook (every repository of the owner, one secret): a POST of the
// JSON payload to the configured URL with GitHub's headers — X-GitHub-Event,
// X-GitHub-Delivery (a GUID), X-GitHub-Hook-ID, X-GitHub-Hook-Installation-Target-*,
// X-Hub-Signature (HMAC-SHA1) and X-Hub-Signature-256 (HMAC-SHA256) of the raw body — one at a
// time per repository, in the order the events happened, unless a fault says otherwise.
//   https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers
// Every payload is checked against GitHub's published webhook schemas (@octokit/webhooks-schemas);
// a payload they reject is recorded in the sandbox's validationFailures, like a REST body.
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export interface WebhookSettings {
  /** Where deliveries go (the service's POST /api/v1/webhooks/github). */
  url: string;
  secret: string;
  /** Events delivered (default: pull_request); `ping` is sent on `pingWebhook` whatever this says. */
  events?: string[];
}

/**
 * What happens to the next deliveries of a repo, consumed in order:
 * `drop` — never sent (GitHub failed to deliver, or the receiver was down);
 * `duplicate` — sent twice with the same delivery id (a redelivery);
 * `delay_until_next` — held and sent right after the next one (deliveries out of order).
 */
export type DeliveryFault = 'drop' | 'duplicate' | 'delay_until_next';

export interface SandboxDelivery {
  id: string;
  event: string;
  action: string | null;
  /** owner/repo (the owner alone for an organisation's own ping) */
  repo: string;
  /** The hook that made it: `owner/repo`, or `org:owner` for an organisation webhook. */
  hook: string;
  payload: Record<string, unknown>;
  /** Statuses the receiver answered, one per send (0: no answer; empty: never sent). */
  statuses: number[];
  /** Why a send got no answer (connection refused, timeout), one per such send. */
  errors: string[];
  fault: DeliveryFault | null;
}

interface Hook {
  id: number;
  key: string;
  settings: WebhookSettings;
  faults: DeliveryFault[];
  held: SandboxDelivery[];
  chain: Promise<void>;
}

/** The key of an organisation's hook (repository hooks are keyed `owner/repo`). */
export const orgHookKey = (owner: string) => `org:${owner}`;

/** GitHub gives up on a delivery whose receiver has not answered in 10 seconds. */
const DELIVERY_TIMEOUT_MS = 10_000;

export class WebhookDispatcher {
  readonly deliveries: SandboxDelivery[] = [];
  private readonly hooks = new Map<string, Hook>();
  private nextHookId = 470_001;
  private readonly ajv = createAjv();
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly validationFailures: string[]) {}

  /** A hook on `key`: a repository (`owner/repo`) or an organisation (orgHookKey). */
  configure(key: string, settings: WebhookSettings | null): number | undefined {
    if (settings === null) {
      this.hooks.delete(key);
      return undefined;
    }
    const hook: Hook = { id: this.nextHookId++, key, settings, faults: [], held: [], chain: Promise.resolve() };
    this.hooks.set(key, hook);
    return hook.id;
  }

  injectFaults(repo: string, faults: DeliveryFault[]): void {
    const hook = this.hooks.get(repo);
    if (hook === undefined) throw new Error(`no sandbox webhook on ${repo}`);
    hook.faults.push(...faults);
  }

  /**
   * Queues a delivery of `event` to the repo's hook and its owner's organisation hook, each that
   * subscribes to it. The payload is built only then: a repo without a hook costs nothing per event.
   * `repo` may be an organisation's hook key (its own ping).
   */
  emit(repo: string, event: string, build: Record<string, unknown> | (() => Record<string, unknown>)): void {
    const keys = repo.startsWith('org:') ? [repo] : [repo, orgHookKey(repo.split('/')[0] as string)];
    const hooks = keys
      .map((k) => this.hooks.get(k))
      .filter(
        (h): h is Hook =>
          h !== undefined && (event === 'ping' || (h.settings.events ?? ['pull_request']).includes(event)),
      );
    if (hooks.length === 0) return;
    const payload = typeof build === 'function' ? build() : build;
    this.check(event, payload);
    for (const hook of hooks) this.enqueue(hook, repo, event, payload);
  }

  private enqueue(hook: Hook, repo: string, event: string, payload: Record<string, unknown>): void {
    const fault = hook.faults.shift() ?? null;
    const delivery: SandboxDelivery = {
      id: randomUUID(),
      event,
      action: typeof payload.action === 'string' ? payload.action : null,
      repo: repo.replace(/^org:/, ''),
      hook: hook.key,
      payload,
      statuses: [],
      errors: [],
      fault,
    };
    this.deliveries.push(delivery);
    hook.chain = hook.chain.then(async () => {
      if (fault === 'drop') return;
      if (fault === 'delay_until_next') {
        hook.held.push(delivery);
        return;
      }
      await this.send(hook, delivery);
      if (fault === 'duplicate') await this.send(hook, delivery);
      for (const held of hook.held.splice(0)) await this.send(hook, held);
    });
  }

  /** Sends a recorded delivery again, with its id and body (GitHub's "Redeliver"). */
  async redeliver(id: string): Promise<number | undefined> {
    const delivery = this.deliveries.find((d) => d.id === id);
    const hook = delivery && this.hooks.get(delivery.hook);
    if (delivery === undefined || hook === undefined) throw new Error(`no sandbox delivery ${id}`);
    await this.send(hook, delivery);
    return delivery.statuses.at(-1);
  }

  hookOf(repo: string): { id: number; url: string } | undefined {
    const hook = this.hooks.get(repo);
    return hook && { id: hook.id, url: hook.settings.url };
  }

  /** Resolves when every delivery queued so far was sent (or dropped, or is held). */
  async settled(): Promise<void> {
    await Promise.all([...this.hooks.values()].map((h) => h.chain));
  }

  /** The body exactly as sent, and GitHub's headers for it. */
  static signedRequest(
    delivery: SandboxDelivery,
    hookId: number,
    secret: string,
  ): { body: string; headers: Record<string, string> } {
    const body = JSON.stringify(delivery.payload);
    const org = delivery.hook.startsWith('org:');
    const target = (org ? delivery.payload.organization : delivery.payload.repository) as { id?: number } | undefined;
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/sandbox',
        'x-github-event': delivery.event,
        'x-github-delivery': delivery.id,
        'x-github-hook-id': String(hookId),
        'x-github-hook-installation-target-id': String(target?.id ?? 0),
        'x-github-hook-installation-target-type': org ? 'organization' : 'repository',
        'x-hub-signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`,
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
    };
  }

  private async send(hook: Hook, delivery: SandboxDelivery): Promise<void> {
    const { body, headers } = WebhookDispatcher.signedRequest(delivery, hook.id, hook.settings.secret);
    try {
      delivery.statuses.push(await post(hook.settings.url, headers, body));
    } catch (error) {
      delivery.statuses.push(0); // no answer: GitHub shows the delivery as failed
      delivery.errors.push(String(error));
    }
  }

  private check(event: string, payload: Record<string, unknown>): void {
    // Events without an action have one schema, `{event}$event` (ping, status).
    const name = payload.action === undefined ? `${event}$event` : `${event}$${String(payload.action)}`;
    let validate = this.validators.get(name);
    if (validate === undefined) {
      validate = this.ajv.getSchema(`webhooks#/definitions/${name}`);
      if (validate === undefined) throw new Error(`no webhook schema ${name}`);
      this.validators.set(name, validate);
    }
    if (!validate(payload)) {
      const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath} ${e.message ?? e.keyword}`);
      this.validationFailures.push(`webhook ${name}: ${errors.join('; ')}`);
    }
  }
}

/** One POST on a connection of its own, as GitHub's deliveries come; resolves with the status. */
function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const transport = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: false,
        timeout: DELIVERY_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function createAjv(): Ajv {
  const file = createRequire(import.meta.url).resolve('@octokit/webhooks-schemas/schema.json');
  // strict: false: the schemas carry keywords of their own (tsAdditionalProperties).
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')) as object, 'webhooks');
  return ajv;
}
