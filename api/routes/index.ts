// Every /api/v1 route of docs/api.md this service serves, in documentation order.
import type { RouteSpec } from '../route.js';
import { clusterRoutes } from './clusters.js';
import { configRepoRoutes } from './config-repos.js';
import type { RouteContext } from './context.js';
import { openPrRoutes } from './open-pr.js';
import { previewRoutes } from './preview.js';
import { proposalRoutes } from './proposals.js';
import { studyRoutes } from './studies.js';
import { templateRoutes } from './templates.js';

export function createRoutes(ctx: RouteContext): RouteSpec[] {
  return [
    ...configRepoRoutes(ctx),
    ...clusterRoutes(ctx),
    ...templateRoutes(ctx),
    ...studyRoutes(ctx),
    ...proposalRoutes(ctx),
    ...openPrRoutes(ctx),
    ...previewRoutes(ctx),
  ];
}
