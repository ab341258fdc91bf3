// Existence and consistency checks shared by the studies and proposals routes: the referenced
// cluster and template exist (404) and the template belongs to that cluster (422).
import { AppError } from '../../domain/errors.js';
import { findCluster, type Cluster } from '../../db/clusters.js';
import { findTemplate, type QueryTemplate } from '../../db/templates.js';
import type { Database } from '../../db/database.js';
import { validationError } from '../validation.js';

export async function assertClusterAndTemplate(
  db: Database,
  clusterId: string,
  templateId: string,
): Promise<{ cluster: Cluster; template: QueryTemplate }> {
  const [cluster, template] = await Promise.all([findCluster(db, clusterId), findTemplate(db, templateId)]);
  if (cluster === undefined)
    throw new AppError({ code: 'CLUSTER_NOT_FOUND', message: `cluster ${clusterId} not found` });
  if (template === undefined)
    throw new AppError({ code: 'TEMPLATE_NOT_FOUND', message: `template ${templateId} not found` });
  if (template.clusterId !== cluster.id)
    throw validationError('template_id', `template ${templateId} belongs to another cluster`);
  return { cluster, template };
}
