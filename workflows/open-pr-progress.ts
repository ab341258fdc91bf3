// Progress of one openPrWorkflow run, visible three ways (docs/architecture.md "The open-PR
// workflow"): the `progress` query, the `OpenPrStep` search attribute (find runs stuck at a step),
// and the current details line in the Web UI.
import {
  ApplicationFailure,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { recordStep } from './metrics.js';
import { SEARCH_ATTRIBUTES } from '../domain/temporal-contracts.js';
import {
  attemptFailedSignal,
  OPEN_PR_STEPS,
  progressQuery,
  stepNumber,
  stepOfActivity,
  type OpenPrProgress,
  type OpenPrStep,
  type StepProgress,
} from '../domain/open-pr-contracts.js';

export class Progress {
  private readonly state: OpenPrProgress = {
    currentStep: null,
    steps: OPEN_PR_STEPS.map((step) => ({ step, status: 'pending' })),
    gitWorkerClaims: 0,
  };

  constructor() {
    setHandler(progressQuery, () => this.state);
    // Attempts the history will not show (activities/attempt-reports.ts).
    setHandler(attemptFailedSignal, ({ activity, failure }) => {
      const step = stepOfActivity(activity);
      if (step === undefined) return;
      const e = this.entry(step);
      e.failedAttempts = (e.failedAttempts ?? 0) + 1;
      e.lastAttemptFailure = failure;
    });
  }

  private entry(step: OpenPrStep): StepProgress {
    const found = this.state.steps.find((s) => s.step === step);
    if (!found) throw new Error(`unknown step ${step}`);
    return found;
  }

  start(step: OpenPrStep): void {
    const e = this.entry(step);
    e.status = 'running';
    e.startedAt = Date.now();
    delete e.endedAt;
    delete e.failure;
    // A step started beside one earlier in the table that still runs (the chart beside the sync)
    // leaves that one current: a failure then names it, and the run is shown waiting on it.
    const earlierRunning = this.state.steps.some(
      (s) => s.status === 'running' && s.step !== step && stepNumber(s.step) < stepNumber(step),
    );
    if (!earlierRunning) this.makeCurrent(step);
  }

  private makeCurrent(step: OpenPrStep): void {
    const e = this.entry(step);
    this.state.currentStep = step;
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.openPrStep, value: step },
      { key: SEARCH_ATTRIBUTES.openPrStepSince, value: new Date(e.startedAt ?? Date.now()) },
    ]);
    setCurrentDetails(`Step ${stepNumber(step)}/${OPEN_PR_STEPS.length}: **${step}**`);
  }

  finish(
    step: OpenPrStep,
    status: 'completed' | 'skipped' | 'failed' | 'cancelled',
    detail?: { note?: string; failure?: string },
  ): void {
    const e = this.entry(step);
    e.status = status;
    e.endedAt = Date.now();
    // The lock step's duration is the wait for the lock; a skipped step takes no time.
    if (e.startedAt !== undefined && status !== 'skipped') recordStep(step, status, (e.endedAt - e.startedAt) / 1000);
    if (detail?.note !== undefined) e.note = detail.note;
    if (detail?.failure !== undefined) e.failure = detail.failure;
    // Steps running side by side: a failure is what the run shows (and ends at); a step that is
    // done hands "current" to one still running.
    if (this.state.currentStep !== step) {
      if (status === 'failed') this.makeCurrent(step);
    } else if (status !== 'failed') {
      const running = this.state.steps.find((s) => s.status === 'running');
      if (running !== undefined) this.makeCurrent(running.step);
    }
  }

  skip(step: OpenPrStep, note: string): void {
    this.finish(step, 'skipped', { note });
  }

  statusOf(step: OpenPrStep): StepProgress['status'] {
    return this.entry(step).status;
  }

  /** The step running (or last started) now. */
  currentStep(): OpenPrStep | null {
    return this.state.currentStep;
  }

  /**
   * A failed run names the step it failed at as its current step, after the lock's
   * release ran: the `progress` query (GET …/open_pr `current_step`) and the details line.
   */
  endFailedAt(step: OpenPrStep): void {
    this.state.currentStep = step;
    setCurrentDetails(`Failed at step ${stepNumber(step)}/${OPEN_PR_STEPS.length}: **${step}**`);
  }

  countGitClaim(): void {
    this.state.gitWorkerClaims += 1;
  }

  /** Runs `fn` as `step`, recording its outcome; failures propagate. */
  async run<T>(step: OpenPrStep, fn: () => Promise<T>, note?: (value: T) => string | undefined): Promise<T> {
    this.start(step);
    try {
      const value = await fn();
      this.finish(step, 'completed', { note: note?.(value) });
      return value;
    } catch (error) {
      // A cancelled step keeps the failure of its latest attempt, if any, not "cancelled".
      if (isCancellation(error)) this.finish(step, 'cancelled');
      else this.finish(step, 'failed', { failure: describeFailure(error) });
      throw error;
    }
  }
}

/** The first ApplicationFailure along a failure's cause chain (ActivityFailure → ApplicationFailure). */
export function findApplicationFailure(error: unknown): ApplicationFailure | undefined {
  let current: unknown = error;
  while (current instanceof Error) {
    if (current instanceof ApplicationFailure) return current;
    current = current.cause;
  }
  return undefined;
}

/** `TYPE: message` of that ApplicationFailure (messages are redacted by activities). */
export function describeFailure(error: unknown): string {
  const failure = findApplicationFailure(error);
  if (failure) return `${failure.type ?? 'Error'}: ${failure.message}`;
  return error instanceof Error ? error.message : String(error);
}
