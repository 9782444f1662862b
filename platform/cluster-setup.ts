// platform/: plumbing that cli, workers and activities share; it imports only contracts/ and security/.
// `hala setup`: makes a namespace of any Temporal cluster ready for campaigns. The namespace must
// exist, and it must know the project's custom search attributes (contracts/search-attributes.ts is
// the one list). Idempotent: attributes already there are left alone. `hala up` runs the same code on
// its dev server, so the local stack is made usable by this path too.
import { isGrpcServiceError, type Connection } from '@temporalio/client';
import { TypedSearchAttributes, type SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { halaSearchAttributes } from '../contracts/search-attributes';

export interface SetupTarget {
  address: string;
  namespace: string;
}

export interface AttributeOutcome {
  name: string;
  /** As the Temporal CLI, tcld and the UI spell it: Keyword, Int, … */
  type: string;
  status: 'added' | 'already present';
}

export interface SetupReport extends SetupTarget {
  attributes: AttributeOutcome[];
}

/** Setup could not finish; the message says what is wrong and what to do about it. */
export class SetupFailed extends Error {
  override name = 'SetupFailed';
}

const { IndexedValueType, NamespaceState } = temporal.api.enums.v1;
/** A search attribute key as defineSearchAttributeKey makes it: all setup needs of one. */
type Key = { name: string; type: SearchAttributeType };

// gRPC status codes the answers below depend on.
const NOT_FOUND = 5;
const PERMISSION_DENIED = 7;
const UNIMPLEMENTED = 12;

const displayType = (type: SearchAttributeType) => TypedSearchAttributes.toMetadataType(type);
const displayIndexed = (type: temporal.api.enums.v1.IndexedValueType) => TypedSearchAttributes.toMetadataType(IndexedValueType[type].replace('INDEXED_VALUE_TYPE_', '') as SearchAttributeType);
const indexedType = (type: SearchAttributeType) => IndexedValueType[`INDEXED_VALUE_TYPE_${type}`];
const grpcCode = (err: unknown) => (isGrpcServiceError(err) ? err.code : undefined);
/** Temporal Cloud answers the operator service this way: search attributes are its control plane's. */
const notAllowed = (err: unknown) => grpcCode(err) === PERMISSION_DENIED || grpcCode(err) === UNIMPLEMENTED;

export async function setupNamespace(connection: Connection, target: SetupTarget, attributes: Key[] = halaSearchAttributes): Promise<SetupReport> {
  const { namespace } = target;
  await checkNamespace(connection, target);

  let existing: Record<string, temporal.api.enums.v1.IndexedValueType>;
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if (notAllowed(err)) throw new SetupFailed(addByHand(target, attributes, 'cannot list', err));
    throw err;
  }

  const mismatched = attributes.filter((k) => existing[k.name] !== undefined && existing[k.name] !== indexedType(k.type));
  if (mismatched.length > 0) {
    const lines = mismatched.map((k) => `  ${k.name} is ${displayIndexed(existing[k.name]!)} there; Hala Flow writes it as ${displayType(k.type)}`);
    throw new SetupFailed(
      [
        `namespace ${namespace} on ${target.address} has search attributes of the wrong type (a type cannot be changed):`,
        ...lines,
        `Remove them if nothing else uses them (temporal operator search-attribute remove --namespace ${namespace} --name NAME), then run hala setup again.`,
      ].join('\n'),
    );
  }

  const missing = attributes.filter((k) => existing[k.name] === undefined);
  if (missing.length > 0) {
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((k) => [k.name, indexedType(k.type)])) });
    } catch (err) {
      if (notAllowed(err)) throw new SetupFailed(addByHand(target, missing, 'cannot add', err));
      throw err;
    }
  }
  return {
    ...target,
    attributes: attributes.map((k) => ({ name: k.name, type: displayType(k.type), status: missing.includes(k) ? 'added' : 'already present' })),
  };
}

async function checkNamespace(connection: Connection, { address, namespace }: SetupTarget): Promise<void> {
  let state: temporal.api.enums.v1.NamespaceState | null | undefined;
  try {
    state = (await connection.workflowService.describeNamespace({ namespace })).namespaceInfo?.state;
  } catch (err) {
    if (grpcCode(err) !== NOT_FOUND) throw err;
    throw new SetupFailed(
      [
        `namespace ${namespace} does not exist on ${address}. Create it, then run hala setup again:`,
        `  a cluster of your own:  temporal operator namespace create --namespace ${namespace}   (the temporal CLI reads the same profile and TEMPORAL_* variables)`,
        `  a dev server:           start it with  temporal server start-dev --namespace ${namespace}`,
        `  Temporal Cloud:         the Cloud UI (Namespaces → Create Namespace), or tcld namespace create`,
        'Or name one that exists: --namespace NAME, TEMPORAL_NAMESPACE, or the namespace of the profile.',
      ].join('\n'),
    );
  }
  if (state !== NamespaceState.NAMESPACE_STATE_REGISTERED) {
    throw new SetupFailed(`namespace ${namespace} on ${address} is ${NamespaceState[state ?? 0]}, not registered: campaigns cannot run in it`);
  }
}

/** What to do where the operator service is closed to us (Temporal Cloud): the names and types, and where to add them. */
function addByHand({ address, namespace }: SetupTarget, keys: Key[], what: string, err: unknown): string {
  const listed = keys.map((k) => `${k.name} (${displayType(k.type)})`).join(', ');
  const reason = isGrpcServiceError(err) ? err.details || err.message : (err as Error).message;
  return [
    `${what} search attributes of namespace ${namespace} on ${address}: ${reason}`,
    `Add these custom search attributes to namespace ${namespace}: ${listed}`,
    `  Temporal Cloud, in the Cloud UI: Namespaces → ${namespace} → Edit → Custom Search Attributes → Add, one per attribute;`,
    `  or with tcld:  tcld namespace search-attributes add --namespace ${namespace} ${keys.map((k) => `--search-attribute ${k.name}=${displayType(k.type)}`).join(' ')}`,
    `  a cluster of your own, as its admin:  ${createCommands(namespace, keys)}`,
    'Then run hala setup again: it checks that they are there.',
  ].join('\n');
}

function createCommands(namespace: string, keys: Key[]): string {
  const byType = new Map<string, string[]>();
  for (const k of keys) byType.set(displayType(k.type), [...(byType.get(displayType(k.type)) ?? []), k.name]);
  return [...byType].map(([type, names]) => `temporal operator search-attribute create --namespace ${namespace} ${names.map((n) => `--name ${n}`).join(' ')} --type ${type}`).join('; ');
}

export function renderSetupReport(report: SetupReport): string {
  const width = Math.max(...report.attributes.map((a) => a.name.length));
  const added = report.attributes.filter((a) => a.status === 'added').length;
  return [
    `namespace ${report.namespace} on ${report.address}: exists`,
    ...report.attributes.map((a) => `  search attribute ${a.name.padEnd(width)}  ${a.type.padEnd(7)}  ${a.status}`),
    added === 0 ? 'nothing to change: the namespace was ready' : `added ${added} of ${report.attributes.length} search attributes; the namespace is ready`,
  ].join('\n');
}
