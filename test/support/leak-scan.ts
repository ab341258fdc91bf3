// Leak checks that can fail. Each scan reads what is really stored — decoded, inflated —
// and reports how much it looked at, so a scan that saw nothing fails its test instead of passing:
// - Temporal history: payload `data` are bytes (JSON-encoded inputs, results, signals, memo,
//   search attributes, failure details); they are decoded before searching.
// - git: objects are zlib-compressed (loose) or packed, so a token inside a blob is invisible to a
//   byte search of the files; `git cat-file --batch-all-objects` inflates every object.
// - any other file: raw bytes.
// `test/int/leak-scan.int.test.ts` plants a token in each place and shows each scan catching it.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';

export interface ScanResult {
  /** What the scan read: payloads, objects or files. Zero means it proved nothing. */
  looked: number;
  /** Where a needle was found (`payload #3`, `object <sha>`, a file path). */
  hits: string[];
}

/** Every form of `secret` a leak could take: raw, and each base64 text that encodes it. */
export function leakFormsOf(secret: string, base64Forms: (s: string) => string[]): string[] {
  return [secret, ...base64Forms(secret)];
}

/**
 * A deep copy of `node` with every payload's `data` bytes (a Buffer or Uint8Array) decoded as
 * UTF-8 text. JSON.stringify alone would not do: it turns a Buffer into `{type, data: [numbers]}`
 * through Buffer's toJSON before any replacer sees it. `count` is called once per payload.
 */
function decoded(node: unknown, count: () => void = () => undefined): unknown {
  if (node instanceof Uint8Array) return Buffer.from(node).toString('utf8');
  if (Array.isArray(node)) return node.map((n) => decoded(n, count));
  if (node === null || typeof node !== 'object') return node;
  if (typeof (node as { toNumber?: unknown }).toNumber === 'function') return String(node); // Long
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => {
      if (key === 'data' && value instanceof Uint8Array) count();
      return [key, decoded(value, count)];
    }),
  );
}

/** Readable text of a history with every payload's `data` decoded (for assertions on content). */
export function historyText(history: temporal.api.history.v1.IHistory): string {
  return JSON.stringify(decoded(history));
}

/** Searches every event of a history, each payload decoded, for any of `needles`. */
export function scanHistory(history: temporal.api.history.v1.IHistory, needles: readonly string[]): ScanResult {
  let looked = 0;
  const hits: string[] = [];
  (history.events ?? []).forEach((event, index) => {
    const text = JSON.stringify(
      decoded(event, () => {
        looked += 1;
      }),
    );
    if (needles.some((n) => text.includes(n)))
      hits.push(`event #${index + 1} (${Object.keys(event).find((k) => k.endsWith('Attributes')) ?? 'event'})`);
  });
  return { looked, hits };
}

/** Searches every object of a git dir (inflated by git itself) and its plain files for `needles`. */
export async function scanGitDir(gitdir: string, needles: readonly string[]): Promise<ScanResult> {
  const objects = await catAllObjects(gitdir);
  const bytes = needles.map((n) => Buffer.from(n));
  const hits: string[] = [];
  let looked = 0;
  for (const object of splitBatch(objects)) {
    looked += 1;
    if (bytes.some((b) => object.content.includes(b))) hits.push(`object ${object.sha}`);
  }
  // config, refs, shallow, FETCH_HEAD, index…: everything that is not a compressed object.
  const files = await scanFiles(gitdir, needles, (file) => !/[/\\]objects[/\\]/.test(file));
  return { looked: looked + files.looked, hits: [...hits, ...files.hits] };
}

/** Searches the raw bytes of every file under `dir` (that `include` accepts) for `needles`. */
export async function scanFiles(
  dir: string,
  needles: readonly string[],
  include: (file: string) => boolean = () => true,
): Promise<ScanResult> {
  const bytes = needles.map((n) => Buffer.from(n));
  const hits: string[] = [];
  let looked = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (!include(file)) continue;
    looked += 1;
    const content = await readFile(file);
    if (bytes.some((b) => content.includes(b))) hits.push(file);
  }
  return { looked, hits };
}

/** Searches texts (logs, rows, API answers, request bodies) for `needles`. */
export function scanTexts(texts: Record<string, string>, needles: readonly string[]): ScanResult {
  const hits = Object.entries(texts)
    .filter(([, text]) => needles.some((n) => text.includes(n)))
    .map(([name]) => name);
  return { looked: Object.values(texts).filter((t) => t.length > 0).length, hits };
}

function catAllObjects(gitdir: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['--git-dir', gitdir, 'cat-file', '--batch-all-objects', '--batch', '--unordered'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: gitdir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
      },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`git cat-file failed (${code}): ${Buffer.concat(err).toString()}`)),
    );
  });
}

/** `<sha> <type> <size>\n<content>\n`, repeated. */
function* splitBatch(batch: Buffer): Generator<{ sha: string; content: Buffer }> {
  let at = 0;
  while (at < batch.length) {
    const eol = batch.indexOf(0x0a, at);
    const [sha = '', , size = '0'] = batch.subarray(at, eol).toString('latin1').split(' ');
    const start = eol + 1;
    const end = start + Number(size);
    yield { sha, content: batch.subarray(start, end) };
    at = end + 1;
  }
}
