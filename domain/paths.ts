// Path rules of docs/architecture.md "Security rules". config_path and template names end up in git
// tree paths and local file paths, so they are validated by shape here; containment on tree entries
// and local paths is checked again where those are resolved, with `isStrictlyInside`.
import path from 'node:path';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A uuid (any version), the only shape of id that may name a local file or directory. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** True when `candidate` resolves to a path below `root` (not `root` itself, not outside it). */
export function isStrictlyInside(root: string, candidate: string): boolean {
  const relative = path.relative(path.resolve(root), path.resolve(candidate));
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

export const CONFIG_PATH_PATTERN = /^[A-Za-z0-9_./-]+$/;
export const TEMPLATE_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const MAX_CONFIG_PATH_LENGTH = 512;
export const MAX_TEMPLATE_NAME_LENGTH = 128;

/** Why a config_path is unacceptable, or undefined when it is fine. */
export function tryConfigPathProblem(configPath: string): string | undefined {
  if (configPath.length === 0) return 'config_path must not be empty';
  if (configPath.length > MAX_CONFIG_PATH_LENGTH) return `config_path exceeds ${MAX_CONFIG_PATH_LENGTH} characters`;
  if (!CONFIG_PATH_PATTERN.test(configPath)) return 'config_path may contain only letters, digits, _ . / -';
  if (configPath.startsWith('/')) return 'config_path must be relative (no leading /)';
  const segments = configPath.split('/');
  if (segments.some((s) => s === '')) return 'config_path must not contain empty segments';
  if (segments.some((s) => s === '..')) return 'config_path must not contain .. segments';
  if (segments.some((s) => s === '.')) return 'config_path must not contain . segments';
  if (segments.some((s) => s.toLowerCase() === '.git')) return 'config_path must not enter .git';
  return undefined;
}

/** Why a template name is unacceptable, or undefined when it is fine. */
export function tryTemplateNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'template name must not be empty';
  if (name.length > MAX_TEMPLATE_NAME_LENGTH) return `template name exceeds ${MAX_TEMPLATE_NAME_LENGTH} characters`;
  if (!TEMPLATE_NAME_PATTERN.test(name)) return 'template name may contain only letters, digits, _ . -';
  if (name === '.' || name === '..') return 'template name must not be . or ..';
  return undefined;
}

/** The params file's path inside the config repo: `{config_path}/{template}.params.json`. */
export function paramsFilePath(configPath: string, templateName: string): string {
  return `${configPath.replace(/\/+$/, '')}/${templateName}.params.json`;
}
