// The real Gitea of sandbox/gitea.ts on a port reserved for this test process (ports.ts).
import { startGitea as startGiteaOn, type GiteaServer, type StartGiteaOptions } from '../../sandbox/gitea.js';
import { freePort } from '../../sandbox/ports.js';

export { GITEA_VERSION, giteaBinary, type GiteaJson, type GiteaServer } from '../../sandbox/gitea.js';

export async function startGitea(opts: Omit<StartGiteaOptions, 'port'> = {}): Promise<GiteaServer> {
  return startGiteaOn({ ...opts, port: await freePort() });
}
