// Shared by the lock-test workflow and its tests (no workflow code here, so tests can import it).
import { defineSignal } from '@temporalio/workflow';

/** Ends a holder's hold early (tests synchronise on it instead of on wall-clock time). */
export const releaseHoldSignal = defineSignal('releaseHold');
