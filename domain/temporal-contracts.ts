// The contract between the API, the workflows and the workers: names, search
// attribute keys, and shared types. Nothing here performs I/O, so workflow code may import it.
import { defineSearchAttributeKey } from '@temporalio/common';

/** Search attributes registered on the namespace (temporal-dev.yaml registers them for the dev server). */
export const SEARCH_ATTRIBUTES = {
  proposalId: defineSearchAttributeKey('ProposalId', 'KEYWORD'),
  configRepoId: defineSearchAttributeKey('ConfigRepoId', 'KEYWORD'),
  clusterId: defineSearchAttributeKey('ClusterId', 'KEYWORD'),
  openPrStep: defineSearchAttributeKey('OpenPrStep', 'KEYWORD'),
  /** Set when a run fails: its error code (docs/architecture.md "Error codes"), for finding failed runs by cause. */
  openPrErrorCode: defineSearchAttributeKey('OpenPrErrorCode', 'KEYWORD'),
  /** When the run entered OpenPrStep: how long a run waits for a lock or sits at a step. */
  openPrStepSince: defineSearchAttributeKey('OpenPrStepSince', 'DATETIME'),
} as const;

/** The type names `temporal` takes (`--search-attribute Name=Type`, `search-attribute create --type`). */
const CLI_TYPE_NAMES = {
  KEYWORD: 'Keyword',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
} as const;

/** Every search attribute with its type as the CLI spells it: the dev server's flags and the docs come from here. */
export function searchAttributeDefinitions(): { name: string; type: string }[] {
  return Object.values(SEARCH_ATTRIBUTES).map((key) => ({ name: key.name, type: CLI_TYPE_NAMES[key.type] }));
}

/** The commands that register them on the namespace of an external cluster (README.md lists them). */
export function searchAttributeCreateCommands(namespace: string): string[] {
  return searchAttributeDefinitions().map(
    ({ name, type }) =>
      `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`,
  );
}
