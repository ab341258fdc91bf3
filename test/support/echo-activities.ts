// Activities of the harness workflows in test/support/workflows.
import { log } from '@temporalio/activity';

export function createEchoActivities() {
  return {
    async shout(text: string): Promise<string> {
      return text.toUpperCase();
    },
  };
}
export type EchoActivities = ReturnType<typeof createEchoActivities>;

export function createLoggingActivities() {
  return {
    async logIt(text: string): Promise<void> {
      log.info(`activity saw ${text}`, { text });
    },
  };
}
export type LoggingActivities = ReturnType<typeof createLoggingActivities>;
