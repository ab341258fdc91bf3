// Lists the routes an Express 5 app actually has mounted, by walking its router stack, so
// tests compare documentation and auth against what is served rather than against a list.
import type { Express } from 'express';

export interface MountedRoute {
  method: string;
  /** Express path with its mount prefix, e.g. `/api/v1/config-repos/:id`. */
  path: string;
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  match(path: string): false | { path: string };
}

/** Mount prefixes to probe: Express 5 keeps a router's mount path only inside its matcher. */
const PREFIXES = ['/api/v1', ''];

function walk(stack: readonly Layer[], prefix: string, out: MountedRoute[]): void {
  for (const layer of stack) {
    if (layer.route) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') out.push({ method, path: prefix + layer.route.path });
      }
    } else if (layer.handle?.stack) {
      const mount = PREFIXES.find((p) => {
        const m = layer.match(`${p}/__probe__`);
        return m !== false && m.path === p;
      });
      if (mount === undefined) throw new Error('a router is mounted under a prefix this walker does not know');
      walk(layer.handle.stack, prefix + mount, out);
    }
  }
}

export function listMountedRoutes(app: Express): MountedRoute[] {
  const out: MountedRoute[] = [];
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '', out);
  return out;
}
