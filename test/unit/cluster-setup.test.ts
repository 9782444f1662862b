// What `hala setup` says where a real dev server cannot take us: Temporal Cloud's closed operator
// service, an attribute of the wrong type. The operator and workflow services are stand-ins that
// answer as the server does (gRPC errors with code, details and metadata); test/e2e/cluster-setup
// runs the rest on a real server.
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { setupNamespace, SetupFailed } from '../../platform/cluster-setup';
import { halaSearchAttributes } from '../../contracts/search-attributes';

const { IndexedValueType, NamespaceState } = temporal.api.enums.v1;
const target = { address: 'hala.a1b2c.tmprl.cloud:7233', namespace: 'hala.a1b2c' };

function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

interface Answers {
  existing?: Record<string, temporal.api.enums.v1.IndexedValueType>;
  list?: Error;
  add?: Error;
}

function standIn(answers: Answers) {
  const added: Record<string, unknown>[] = [];
  const connection = {
    workflowService: { describeNamespace: async () => ({ namespaceInfo: { state: NamespaceState.NAMESPACE_STATE_REGISTERED } }) },
    operatorService: {
      listSearchAttributes: async () => {
        if (answers.list) throw answers.list;
        return { customAttributes: answers.existing ?? {} };
      },
      addSearchAttributes: async (request: { searchAttributes: Record<string, unknown> }) => {
        if (answers.add) throw answers.add;
        added.push(request.searchAttributes);
        return {};
      },
    },
  } as unknown as Connection;
  return { connection, added };
}

const failure = (p: Promise<unknown>) => p.then(() => expect.unreachable('setup should fail'), (err: unknown) => err as Error);

describe('setupNamespace', () => {
  it('adds only the attributes the namespace lacks, and reports each', async () => {
    const { connection, added } = standIn({ existing: { HalaCampaign: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD } });
    const report = await setupNamespace(connection, target);
    expect(added).toEqual([Object.fromEntries(halaSearchAttributes.slice(1).map((k) => [k.name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]))]);
    expect(report.attributes.map((a) => `${a.name} ${a.type} ${a.status}`)).toEqual([
      'HalaCampaign Keyword already present',
      ...halaSearchAttributes.slice(1).map((k) => `${k.name} Keyword added`),
    ]);
  });

  it('where Temporal Cloud refuses to add them, names each with its type and says where to add it', async () => {
    const { connection } = standIn({ add: grpcError(7, 'Request unauthorized.') });
    const err = await failure(setupNamespace(connection, target));
    expect(err).toBeInstanceOf(SetupFailed);
    expect(err.message).toContain('cannot add search attributes of namespace hala.a1b2c on hala.a1b2c.tmprl.cloud:7233: Request unauthorized.');
    expect(err.message).toContain('HalaCampaign (Keyword), HalaStage (Keyword), HalaRecipeHash (Keyword), HalaModel (Keyword), HalaStageKey (Keyword)');
    expect(err.message).toContain('Cloud UI: Namespaces → hala.a1b2c → Edit → Custom Search Attributes');
    expect(err.message).toContain(
      'tcld namespace search-attributes add --namespace hala.a1b2c --search-attribute HalaCampaign=Keyword --search-attribute HalaStage=Keyword --search-attribute HalaRecipeHash=Keyword --search-attribute HalaModel=Keyword --search-attribute HalaStageKey=Keyword',
    );
    expect(err.message).toContain('temporal operator search-attribute create --namespace hala.a1b2c --name HalaCampaign --name HalaStage');
  });

  it('lists only the missing ones when some are there already', async () => {
    const present = Object.fromEntries(halaSearchAttributes.slice(0, 4).map((k) => [k.name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]));
    const err = await failure(setupNamespace(standIn({ existing: present, add: grpcError(7, 'Request unauthorized.') }).connection, target));
    expect(err.message).toContain('to namespace hala.a1b2c: HalaStageKey (Keyword)\n');
  });

  it('gives the same instructions when it may not even list them (or the service is not there)', async () => {
    for (const code of [7, 12]) {
      const err = await failure(setupNamespace(standIn({ list: grpcError(code, 'not allowed') }).connection, target));
      expect(err).toBeInstanceOf(SetupFailed);
      expect(err.message).toContain('cannot list search attributes of namespace hala.a1b2c');
      expect(err.message).toContain('tcld namespace search-attributes add');
    }
  });

  it('refuses an attribute of the wrong type and changes nothing', async () => {
    const { connection, added } = standIn({ existing: { HalaStage: IndexedValueType.INDEXED_VALUE_TYPE_INT } });
    const err = await failure(setupNamespace(connection, target));
    expect(err.message).toContain('HalaStage is Int there; Hala Flow writes it as Keyword');
    expect(added).toEqual([]);
  });

  it('lets any other error through as it is', async () => {
    const unavailable = grpcError(14, 'connection refused');
    expect(await failure(setupNamespace(standIn({ add: unavailable }).connection, target))).toBe(unavailable);
  });
});
