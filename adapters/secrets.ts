// Secret files (docs/architecture.md "Security rules"): `{secrets_dir}/{ref}` holds one token. The
// ref is validated, the resolved real path must stay inside the secrets dir (a symlink escaping it
// is refused), and the target must be a regular file. Every loaded secret is registered with the
// Redactor.
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isStrictlyInside } from '../domain/paths.js';
import type { Redactor } from '../domain/redact.js';

export const SECRET_REF_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export type SecretStatus = 'ok' | 'invalid_ref' | 'missing' | 'not_regular_file' | 'outside_secrets_dir' | 'empty';

export class SecretError extends Error {
  override name = 'SecretError';
  constructor(
    readonly status: Exclude<SecretStatus, 'ok'>,
    readonly ref: string,
  ) {
    super(`secret "${ref}" is unusable: ${status.replaceAll('_', ' ')}`);
  }
}

/** Resolves and checks the file of `ref` without reading it. */
export async function checkSecretFile(
  secretsDir: string,
  ref: string,
): Promise<{ status: SecretStatus; file?: string }> {
  if (!SECRET_REF_PATTERN.test(ref)) return { status: 'invalid_ref' };
  let dir: string;
  let file: string;
  try {
    dir = await realpath(secretsDir);
    file = await realpath(path.join(dir, ref));
  } catch {
    return { status: 'missing' };
  }
  if (!isStrictlyInside(dir, file)) return { status: 'outside_secrets_dir' };
  const info = await stat(file);
  if (!info.isFile()) return { status: 'not_regular_file' };
  if (info.size === 0) return { status: 'empty', file };
  return { status: 'ok', file };
}

/** Reads a secret (trimmed), registers it for redaction, and throws SecretError when unusable. */
export async function readSecret(secretsDir: string, ref: string, redactor: Redactor): Promise<string> {
  const { status, file } = await checkSecretFile(secretsDir, ref);
  if (status !== 'ok' || file === undefined) throw new SecretError(status === 'ok' ? 'missing' : status, ref);
  const value = (await readFile(file, 'utf8')).trim();
  if (value === '') throw new SecretError('empty', ref);
  redactor.register(value);
  return value;
}

/** Reads a secret file given by full path (the API token file), registering it for redaction. */
export async function readSecretPath(file: string, redactor: Redactor): Promise<string> {
  return readSecret(path.dirname(file), path.basename(file), redactor);
}
