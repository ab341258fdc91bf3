// What route handlers get from createApp: the database, the configuration, the cursor codec, the
// Temporal client and the logger.
import type { Config } from '../../domain/config.js';
import type { Database } from '../../db/database.js';
import type { Logger } from '../../runtime/logger.js';
import type { TemporalHandle } from '../../adapters/temporal-client.js';
import type { ListedPage } from '../../db/paging.js';
import type { CursorCodec } from '../cursor.js';
import type { ListResult } from '../route.js';

export interface RouteContext {
  config: Config;
  db: Database;
  cursors: CursorCodec;
  /** Starts and inspects open-PR workflows (the open_pr routes). */
  temporal: TemporalHandle;
  /** For audit lines of changes an operator makes (e.g. a template fixed in place). */
  logger: Logger;
}

/** Turns a data-access page into the wire page (docs/api.md `{data, next_cursor, has_more}`). */
export function toListResult<T, J>(
  ctx: RouteContext,
  list: string,
  page: ListedPage<T>,
  toJson: (row: T) => J,
): ListResult<J> {
  return {
    data: page.rows.map(toJson),
    next_cursor: page.next === undefined ? null : ctx.cursors.encode(list, page.next),
    has_more: page.next !== undefined,
    total: page.total,
  };
}
