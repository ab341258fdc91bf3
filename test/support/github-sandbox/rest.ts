// placeholder: replaced by the REST implementation
import type { RepoRecord } from './repos.js';
import type { SandboxComment, SandboxPull } from './types.js';

export interface RestRequest { method: string; pathname: string; query: Record<string, string>; headers: Record<string, string>; body: string }
export interface RestAnswer { status: number; body: unknown; headers?: Record<string, string> }

export class RestApi {
  constructor(private readonly deps: { repos: Map<string, RepoRecord>; home: string; validationFailures: string[]; origin: () => string }) {}
  resetRepo(_owner: string, _repo: string): void {}
  pulls(_owner: string, _repo: string): SandboxPull[] { return []; }
  comments(_owner: string, _repo: string, _n: number): SandboxComment[] { return []; }
  async handle(_req: RestRequest): Promise<RestAnswer> { return { status: 404, body: { message: 'Not Found' } }; }
}
