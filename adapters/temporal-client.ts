// The Temporal client the API uses. The connection is lazy: the API starts (and answers
// /healthz) while Temporal is down, and open_pr then answers 503 QUEUE_UNAVAILABLE instead of
// hanging at start-up.
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';

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

/** gRPC status codes (grpc/include/grpc/impl/codegen/status.h) that mean "no answer; try again". */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** The gRPC status along an error's cause chain (the client wraps it in a ServiceError). */
export function grpcStatusOf(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (isGrpcServiceError(current)) return current.code;
    current = current.cause;
  }
  return undefined;
}

/**
 * Temporal did not answer (down, unreachable, or too slow): worth trying again. Any other failure
 * (a missing namespace or search attribute, a rejected request) is a fault to fix, not to retry.
 */
export function isTemporalUnavailable(error: unknown): boolean {
  const status = grpcStatusOf(error);
  return status === GRPC_UNAVAILABLE || status === GRPC_DEADLINE_EXCEEDED;
}
