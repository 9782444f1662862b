// What the server refuses that the operator can fix: said as a sentence with the fix, exit 2 (the
// convention of cli/conventions.ts), instead of the gRPC message and exit 1. One place for the three
// refusals `hala` meets: an id already running, a campaign that does not exist, a namespace that
// does not exist (which any verb can meet, so the program's last catch asks here too).
import { NamespaceNotFoundError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { TemporalConnection } from '../platform/temporal-connection';

/** Refused before doing anything, for a reason the message names with its fix: exit 2. */
export class Refused extends Error {}

/** `hala run --id X` while X runs: how to follow that one, and how to start another. */
export function alreadyRunning(err: unknown, namespace: string): Refused | undefined {
  if (!(err instanceof WorkflowExecutionAlreadyStartedError)) return undefined;
  const id = err.workflowId;
  return new Refused(
    `campaign ${id} is already running in namespace ${namespace}; nothing new was started. ` +
      `Follow it with \`hala watch ${id}\` (or \`hala status ${id}\`), stop it with \`hala cancel ${id}\`, ` +
      'or start another run of the recipe with --id with another id (or no --id: a fresh id is made); ' +
      "--rerun STAGE recomputes stages in that new run, finished stages of this one come from the cache",
  );
}

/** A campaign id the namespace does not hold. */
export function noSuchCampaign(err: unknown, id: string, namespace: string): Refused | undefined {
  if (!(err instanceof WorkflowNotFoundError)) return undefined;
  return new Refused(`no campaign ${id} in namespace ${namespace}: \`hala ls\` lists its campaigns (--namespace picks another)`);
}

/**
 * A namespace the server does not have. The SDK gives NamespaceNotFoundError where it decodes the
 * error details (start, list); other calls (a query) carry only the server's gRPC NOT_FOUND message.
 */
export function namespaceMissing(err: unknown, temporal: Pick<TemporalConnection, 'address' | 'namespace'>): Refused | undefined {
  const found = causes(err).some(
    (e) => e instanceof NamespaceNotFoundError || (grpcCode(e) === NOT_FOUND && /namespace .* (is )?not found/i.test(e.message)),
  );
  if (!found) return undefined;
  const ns = temporal.namespace;
  return new Refused(
    `namespace ${ns} does not exist on ${temporal.address}. Create it, or name one that exists (--namespace, ` +
      `TEMPORAL_NAMESPACE or the profile): on a self-hosted server or a dev server, \`temporal operator namespace create ` +
      `--namespace ${ns} --address ${temporal.address}\` then \`hala setup\` (its search attributes); \`hala up\` starts a ` +
      'local dev server with namespace default; on Temporal Cloud, create it in the Cloud console (or `tcld namespace create`)',
  );
}

const NOT_FOUND = 5; // gRPC status code

function grpcCode(e: Error): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** The error and the chain of its causes (the SDK wraps gRPC errors in a ServiceError). */
function causes(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = err; e instanceof Error && chain.length < 8; e = e.cause) chain.push(e);
  return chain;
}
