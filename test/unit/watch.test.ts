// The pure parts of `hala watch`: heartbeat details through the codec, pace from samples, the
// terminal block, the plain log's throttling, the "no worker" wording and its flag.
// The command itself, on the dev server: test/workflow/watch.test.ts.
import { randomBytes } from 'node:crypto';
import { encodeToPayloads, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { describe, expect, it } from 'vitest';
import { heartbeatProgress } from '../../cli/pending-work';
import type { Progress } from '../../contracts/progress';
import { keyIdOf, type CodecKeyring } from '../../security/codec-key';
import { EncryptionCodec } from '../../security/payload-codec';
import { noWorkerText, parseNoWorkerAfter } from '../../cli/no-worker';
import { ProgressRate } from '../../cli/progress-rate';
import { useColour } from '../../cli/conventions';
import { watchMode } from '../../cli/watch';
import { clock, PlainLog, terminalFrame } from '../../cli/watch-render';
import type { StageLine, WatchSnapshot } from '../../cli/watch-snapshot';

const t0 = Date.parse('2026-12-02T05:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();
const running = (done: number, extra: Partial<NonNullable<StageLine['live']>> = {}): StageLine => ({
  stage: 'sft-hala-350m',
  kind: 'sft',
  status: 'running',
  forced: false,
  live: { activities: 1, waiting: 0, phase: 'train', done, total: 100, metrics: { loss: 0.5 }, ...extra },
});
const snap = (seconds: number, stages: StageLine[]): WatchSnapshot => ({ at: at(seconds), campaign_id: 'c1', state: 'running', stages });
const filter: StageLine = { stage: 'filter-opus', kind: 'filter-opus', status: 'completed', forced: false, started_at: at(0), ended_at: at(2), headline: { read: 10, kept: 8 } };

describe('ProgressRate', () => {
  it('is the slope of done over the samples, with the ETA at that rate', () => {
    const r = new ProgressRate();
    expect(r.sample('s', 10, 100, 0)).toEqual({});
    expect(r.sample('s', 30, 100, 10_000)).toEqual({ rate: 2, eta_s: 35 });
  });

  it('starts afresh when less is done (a retry, another shard) or the total changes', () => {
    const r = new ProgressRate();
    r.sample('s', 50, 100, 0);
    expect(r.sample('s', 5, 100, 1000)).toEqual({});
    expect(r.sample('s', 15, 100, 2000)).toEqual({ rate: 10, eta_s: 8.5 });
    expect(r.sample('s', 20, 200, 3000)).toEqual({});
  });

  it('forgets stages no longer running', () => {
    const r = new ProgressRate();
    r.sample('s', 10, 100, 0);
    r.keep(new Set());
    expect(r.sample('s', 20, 100, 1000)).toEqual({});
  });
});

describe('terminalFrame', () => {
  it("names the campaign that computed a stage taken from the cache", () => {
    const taken: StageLine = { ...filter, status: 'cached', computed_by: 'c0' };
    expect(terminalFrame(snap(3, [taken]), { colour: false, width: 200, t0 })[1]).toBe('= filter-opus  cached (computed by campaign c0) 2.0s read=10 kept=8');
  });

  it('draws a bar with done/total, percent, rate, ETA and live metrics, and finished stages with their headline', () => {
    const lines = terminalFrame(snap(65, [filter, running(40, { rate: 2.5, eta_s: 24 })]), { colour: false, width: 200, t0 });
    expect(lines).toEqual([
      'campaign c1  running  1:05',
      '✓ filter-opus    completed 2.0s read=10 kept=8',
      `▸ sft-hala-350m  train [${'█'.repeat(8)}${'░'.repeat(12)}] 40/100 (40%) 2.5/s ETA 0:24 loss=0.500`,
    ]);
  });

  it('colours only when asked, and cuts lines to the terminal width', () => {
    const plain = terminalFrame(snap(1, [running(40)]), { colour: false, width: 30, t0 });
    expect(plain.join('\n')).not.toContain('\x1b');
    expect(plain[1]).toHaveLength(29);
    const coloured = terminalFrame(snap(1, [running(40)]), { colour: true, width: 30, t0 });
    expect(coloured[1]!.startsWith('\x1b[33m▸\x1b[0m ')).toBe(true);
    // eslint-disable-next-line no-control-regex -- the colour codes themselves
    expect(coloured[1]!.replace(/\x1b\[[0-9;]*m/g, '')).toBe(plain[1]);
  });

  it('folds pending, then finished stages into a count when the screen is too short for the block', () => {
    const pending = (stage: string): StageLine => ({ stage, kind: 'x', status: 'pending', forced: false });
    const stages = [filter, running(40), pending('merge-a'), pending('merge-b')];
    expect(terminalFrame(snap(1, stages), { colour: false, width: 200, t0, height: 6 })).toHaveLength(5);
    expect(terminalFrame(snap(1, stages), { colour: false, width: 200, t0, height: 5 }).slice(1, 2)).toEqual(['· 2 stages pending']);
    const short = terminalFrame(snap(1, stages), { colour: false, width: 200, t0, height: 4 });
    expect(short.slice(1, 2)).toEqual(['✓ 1 stage finished, 2 pending']);
    expect(short[2]).toMatch(/^▸ sft-hala-350m /);
  });

  it('says which stage has no worker instead of a bar', () => {
    const stranded: StageLine = { ...running(0), live: { activities: 1, waiting: 1, metrics: {} }, no_worker: { queue: 'hala-gpu-train', activity: 'train_sft', waiting_s: 312 } };
    expect(terminalFrame(snap(1, [stranded]), { colour: false, width: 200, t0 })[1]).toBe('▸ sft-hala-350m  no worker on hala-gpu-train for 5 min');
  });
});

describe('PlainLog', () => {
  it('prints state changes once, and progress at each quarter or every interval, never escape codes', () => {
    const log = new PlainLog(t0, 30_000);
    const pending: StageLine = { ...running(0), status: 'pending', live: undefined };
    expect(log.lines(snap(0, [pending]))).toEqual([]);
    expect(log.lines(snap(1, [running(10)]))).toEqual(['[0:01] sft-hala-350m running']);
    expect(log.lines(snap(2, [running(20)]))).toEqual([]);
    expect(log.lines(snap(3, [running(26, { rate: 8, eta_s: 9 })]))).toEqual(['[0:03] sft-hala-350m train 26/100 (26%) 8.0/s ETA 0:09 loss=0.500']);
    expect(log.lines(snap(20, [running(30)]))).toEqual([]);
    expect(log.lines(snap(34, [running(31)]))).toEqual(['[0:34] sft-hala-350m train 31/100 (31%) loss=0.500']);
    // Another shard starts at 0 (a fan-out of short shards): no quarter lines for each, the interval rules.
    expect(log.lines(snap(35, [running(2)]))).toEqual([]);
    expect(log.lines(snap(36, [running(27)]))).toEqual([]);
    expect(log.lines(snap(64, [running(12)]))).toEqual(['[1:04] sft-hala-350m train 12/100 (12%) loss=0.500']);
    expect(log.lines(snap(65, [running(26)]))).toHaveLength(1);
    const done: StageLine = { ...filter, stage: 'sft-hala-350m', kind: 'sft', headline: { steps: 10, final_loss: 0.5 } };
    const out = log.lines(snap(40, [done]));
    expect(out).toEqual(['[0:40] sft-hala-350m completed 2.0s steps=10 final_loss=0.500']);
    expect(log.lines(snap(41, [done]))).toEqual([]);
    const failed: StageLine = { ...done, stage: 'merge-hala-350m', status: 'failed', headline: undefined, error: 'RunnerFailed: boom' };
    expect(log.lines(snap(42, [done, failed]))).toEqual(['[0:42] merge-hala-350m failed 2.0s: RunnerFailed: boom']);
  });

  it('says once when a stage starts waiting for a missing worker', () => {
    const log = new PlainLog(t0);
    const stranded: StageLine = { ...running(0), no_worker: { queue: 'hala-gpu-nobody', activity: 'train_sft', waiting_s: 12 } };
    expect(log.lines(snap(1, [stranded]))).toEqual(['[0:01] sft-hala-350m no worker on hala-gpu-nobody for 12 s']);
    expect(log.lines(snap(2, [{ ...stranded, no_worker: { ...stranded.no_worker!, waiting_s: 13 } }]))).toEqual([]);
  });
});

describe('a campaign waiting at a gate', () => {
  const gated = (seconds: number, waiting: boolean): WatchSnapshot => ({
    ...snap(seconds, [{ ...running(0), status: 'pending', live: undefined }]),
    ...(waiting ? { waiting_at: [{ name: 'corpus-review', before: 'sft', approve: 'npx hala approve c1 corpus-review' }] } : {}),
  });

  it('says so under the header, with the command that lets it go on', () => {
    expect(terminalFrame(gated(1, true), { colour: false, width: 200, t0 }).slice(1)).toEqual([
      '‖ waiting at gate corpus-review before sft: npx hala approve c1 corpus-review',
      '· sft-hala-350m  pending',
    ]);
  });

  it('prints it once into a pipe, and again only if it waits anew', () => {
    const log = new PlainLog(t0);
    expect(log.lines(gated(1, true))).toEqual(['[0:01] waiting at gate corpus-review before sft: npx hala approve c1 corpus-review']);
    expect(log.lines(gated(2, true))).toEqual([]);
    expect(log.lines(gated(3, false))).toEqual([]);
  });

  it('shows a stage the cancel stopped as cancelled', () => {
    const stopped: StageLine = { ...running(0), status: 'cancelled', live: undefined };
    expect(terminalFrame(snap(1, [stopped]), { colour: false, width: 200, t0 })[1]).toBe('⊘ sft-hala-350m  cancelled');
  });
});

describe('watch modes and flags', () => {
  it('redraws on a terminal, appends plain lines elsewhere, NDJSON with --json; colour only on a terminal without NO_COLOR', () => {
    expect(watchMode({ isTTY: true }, false)).toBe('terminal');
    expect(watchMode({ isTTY: false }, false)).toBe('plain');
    expect(watchMode({ isTTY: true }, true)).toBe('json');
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('words the wait in seconds, then minutes, and takes --no-worker-after in minutes', () => {
    expect(noWorkerText({ stage: 's', queue: 'q', activity: 'a', waiting_s: 59 })).toBe('no worker on q for 59 s');
    expect(noWorkerText({ stage: 's', queue: 'q', activity: 'a', waiting_s: 300 })).toBe('no worker on q for 5 min');
    expect(parseNoWorkerAfter('0.5')).toBe(30_000);
    expect(() => parseNoWorkerAfter('soon')).toThrow('--no-worker-after must be a positive number of minutes (got "soon"), e.g. --no-worker-after 5');
    expect(() => parseNoWorkerAfter('0')).toThrow(/positive/);
    expect(clock(3725)).toBe('1:02:05');
  });
});

describe('heartbeatProgress', () => {
  const progress: Progress = { phase: 'train', done: 40, total: 100, checkpoint_uri: 'file:///s/step-40', metrics: { loss: 0.5 } };
  const key = randomBytes(32);
  const keys: CodecKeyring = { active: { id: keyIdOf(key), key }, byId: new Map([[keyIdOf(key), key]]) };

  it('reads Progress through the codec the payloads were encrypted with', async () => {
    const converter = loadDataConverter({ payloadCodecs: [new EncryptionCodec(keys)] });
    const payloads = (await encodeToPayloads(converter, progress))!;
    expect(Buffer.from(payloads[0]!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(await heartbeatProgress(converter, payloads)).toEqual(progress);
    // Without the key, or for details that are not a Progress: no bar rather than a wrong one.
    expect(await heartbeatProgress(loadDataConverter(), payloads)).toBeUndefined();
    expect(await heartbeatProgress(converter, await encodeToPayloads(converter, { step: 3 }))).toBeUndefined();
    expect(await heartbeatProgress(converter, [])).toBeUndefined();
  });
});
