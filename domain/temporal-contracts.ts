// The contract between the API, the workflows and the workers (STYLE.md §3): names, search
// attribute keys, and shared types. Nothing here performs I/O, so workflow code may import it.
import { defineSearchAttributeKey } from '@temporalio/common';

/** Search attributes registered on the namespace (temporal-dev.yaml registers them for the dev server). */
export const SEARCH_ATTRIBUTES = {
  proposalId: defineSearchAttributeKey('ProposalId', 'KEYWORD'),
  configRepoId: defineSearchAttributeKey('ConfigRepoId', 'KEYWORD'),
  clusterId: defineSearchAttributeKey('ClusterId', 'KEYWORD'),
  openPrStep: defineSearchAttributeKey('OpenPrStep', 'KEYWORD'),
  /** Set when a run fails: its error code (SPEC §7), for finding failed runs by cause. */
  openPrErrorCode: defineSearchAttributeKey('OpenPrErrorCode', 'KEYWORD'),
} as const;

/** Names and types as `temporal operator search-attribute create` and the dev server take them. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword'> = Object.fromEntries(
  Object.values(SEARCH_ATTRIBUTES).map((key) => [key.name, 'Keyword'] as const),
);
