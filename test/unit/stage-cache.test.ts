// openStage digests every raw source into the stage key and hands the digests back; closeStage
// writes lineage records whose source parents carry them and whose producer carries the activities.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStageCacheActivities } from '../../activities/stage-cache';
import type { HubFetch } from '../../activities/hub-revision-lookup';
import { FileStore } from '../../activities/store';
import type { CloseStageInput, OpenStageInput } from '../../contracts/campaign';
import { LineageRecord } from '../../contracts/lineage';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ARTIFACT = 'c'.repeat(64);
const DATASET = 'hf://datasets/org/opus/train.parquet';

let dir: string;
let mirror: string;
let root: string;
let acts: ReturnType<typeof createStageCacheActivities>;

const open = (inputs: string[], extra: Partial<OpenStageInput> = {}) =>
  acts.openStage({ store_root: root, stage: 'filter-opus', config: { max_chars: 400 }, inputs, runner_version: '0.1.0', forced: false, checks: [], ...extra });

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hala-stage-cache-'));
  mirror = path.join(dir, 'mirror');
  root = `file://${dir}/store`;
  await mkdir(path.join(mirror, 'datasets', 'org', 'opus'), { recursive: true });
  await writeFile(path.join(mirror, 'datasets', 'org', 'opus', 'train.parquet'), 'v1');
  acts = createStageCacheActivities({ store: new FileStore(root), hubMirror: mirror });
});

afterEach(() => rm(dir, { recursive: true, force: true }));

describe('openStage', () => {
  it('returns one digest per distinct source and keys the stage by it', async () => {
    const opened = await open([ARTIFACT, DATASET, DATASET]);
    expect(opened.sources).toEqual([{ uri: DATASET, sha256: sha('v1') }]);
    expect((await open([ARTIFACT, DATASET, DATASET])).stage_key).toBe(opened.stage_key);

    // New upstream content under the same URI is new work (the file changed size, so no stale cache).
    await writeFile(path.join(mirror, 'datasets', 'org', 'opus', 'train.parquet'), 'v2, more rows');
    expect((await open([ARTIFACT, DATASET, DATASET])).stage_key).not.toBe(opened.stage_key);
  });

  it('stops the stage with a non-retryable BadInput naming an input it cannot resolve', async () => {
    const failure = await open([DATASET, 'hf://datasets/org/missing/x.parquet']).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect((failure as Error).message).toMatch(/^openStage filter-opus: hf:\/\/datasets\/org\/missing\/x\.parquet is not in the hub mirror/);
  });
});

describe('openStage with the hub refusing a source (issue 22)', () => {
  const BASE = 'hf://QCRI/Fanar-1-9B-Instruct';
  const FIELD = 'stages.sft.students[3].base';
  const GATED_FIX = "accept the model's terms on the hub and give the workers a token: Secret hala-hf / HF_TOKEN";

  /** The hub API answering every question with `status`, recording what it was asked. */
  const hubAnswering = (status: number) => {
    const seen: { url: string; headers: Record<string, string> }[] = [];
    const fetch: HubFetch = async (url, init) => {
      seen.push({ url, headers: init.headers });
      return { ok: false, status, json: async () => ({ error: 'refused' }) };
    };
    return { fetch, seen };
  };

  const openSft = async (status: number, hfToken: string) => {
    const hub = hubAnswering(status);
    const sft = createStageCacheActivities({ store: new FileStore(root), hubMirror: '', fetch: hub.fetch, hfToken });
    const failure = await sft
      .openStage({ store_root: root, stage: 'sft-hala-9b', config: {}, inputs: [ARTIFACT, BASE], runner_version: '0.1.0', forced: false, checks: [{ uri: BASE, field: FIELD, kind: 'model' }] })
      .catch((e: unknown) => e);
    return { failure: failure as ApplicationFailure, seen: hub.seen };
  };

  it.each([
    [401, 'hf_workers', /no such repo, or one this token cannot see\) with the workers' HF_TOKEN; check the repo id; if the repo is gated or private, /],
    [403, '', /gated or private\) without a token \(HF_TOKEN is not set\); /],
  ])('stops at open, not retried, on HTTP %i: the field, the repo, the status and the token fix', async (status, token, why) => {
    const { failure, seen } = await openSft(status, token);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(failure.message.startsWith(`openStage sft-hala-9b: ${FIELD} = ${BASE}: the hub refused model repo QCRI/Fanar-1-9B-Instruct (HTTP ${status}: `)).toBe(true);
    expect(failure.message).toMatch(why);
    expect(failure.message).toContain(GATED_FIX);
    // The workers' token goes with the question when one is set, and none is invented otherwise.
    expect(seen[0]!.headers).toEqual(token ? { authorization: `Bearer ${token}` } : {});
  });

  it('stops at open on HTTP 404, naming the field and telling to check the id and revision', async () => {
    const { failure } = await openSft(404, '');
    expect(failure).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect(failure.message).toBe(
      `openStage sft-hala-9b: ${FIELD} = ${BASE}: the hub has no model repo QCRI/Fanar-1-9B-Instruct with a revision main (HTTP 404); check the repo id and the revision`,
    );
  });
});

describe('closeStage lineage', () => {
  it('gives every source parent its digest and the producer its activities and GPU-seconds', async () => {
    const opened = await open([ARTIFACT, DATASET]);
    const artifact = { uri: `${opened.output_prefix}/pairs.parquet`, sha256: 'd'.repeat(64), kind: 'dataset' as const, bytes: 10 };
    const activities = [
      { activity: 'score_translation', count: 2, attempts: 2, retries: 0, seconds: 3, gpu_seconds: 3 },
      { activity: 'translate_shard', count: 5, attempts: 7, retries: 1, seconds: 40, gpu_seconds: 80 },
    ];
    const close: CloseStageInput = {
      store_root: root, stage: 'filter-opus', stage_key: opened.stage_key, config: {}, inputs: [ARTIFACT, DATASET], output: {},
      artifacts: [artifact], sources: opened.sources, activities, forced: false, metrics: { kept: 8 },
      campaign_id: 'c1', workflow_id: 'c1/filter-opus', run_id: 'r1', code_version: '0.1.0', started_at: '2026-01-01T00:00:00Z',
    };
    await acts.closeStage(close);
    const text = await readFile(path.join(dir, 'store', 'lineage', `${artifact.sha256}.json`), 'utf8');
    const record = LineageRecord.parse(JSON.parse(text));
    expect(record.parents).toEqual([
      { kind: 'artifact', sha256: ARTIFACT },
      { kind: 'source', uri: DATASET, sha256: sha('v1') },
    ]);
    expect(record.producer.activities).toEqual(activities);
    expect(record.gpu_seconds).toBe(83);
    // The cache hit names who computed it: what a second campaign shows as "computed by campaign c1".
    const again = await open([ARTIFACT, DATASET]);
    expect(again.produced_by).toEqual({ campaign_id: 'c1', workflow_id: 'c1/filter-opus' });
  });
});
