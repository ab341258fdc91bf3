// The Temporal client the API uses. The connection is lazy: the API starts (and answers
// /healthz) while Temporal is down, and open_pr then answers 503 QUEUE_UNAVAILABLE instead of
// hanging at start-up.
import { Client, Connection } from '@temporalio/client';

export interface TemporalHandle {
  client: Client;
  connection: Connection;
  namespace: string;
  /** Resolves when the frontend answers and the namespace exists; rejects otherwise. */
  checkReady(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function createTemporalHandle(address: string, namespace: string): TemporalHandle {
  const connection = Connection.lazy({ address, connectTimeout: 3_000 });
  const client = new Client({ connection, namespace });
  return {
    client,
    connection,
    namespace,
    async checkReady(timeoutMs = 3_000) {
      await connection.withDeadline(Date.now() + timeoutMs, () =>
        connection.workflowService.describeNamespace({ namespace }),
      );
    },
    close: () => connection.close(),
  };
}
