// The chaos suite: the tiny campaign again, on a fresh store at the same path as the undisturbed
// run, while eight faults strike in turn — kill -9 the TypeScript worker, kill -9 the infer worker
// mid-translate, kill -9 the train runner mid-train, restart the dev server, SIGTERM the train
// worker mid-sft, cap a train runner's memory (out of memory), crash one student's runner on every
// attempt, SIGSTOP an eval runner. The campaign must finish every branch but the crashing
// student's with the undisturbed run's digests (the out-of-memory student's own stages excepted:
// half the batch sums in another order), every source row translated exactly once, each fault's
// rework within its bound (printed), then fail naming that student; a rerun completes only its branch.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../../cli/recipe-file';
import { startCampaign } from '../../../cli/start-campaign';
import type { Recipe } from '../../../contracts/recipe';
import type { CampaignProgress, StageReport } from '../../../contracts/campaign';
import type { campaign, CampaignResult } from '../../../workflows/campaign';
import { progressQuery } from '../../../workflows/definitions';
import { startLocalStack, type LocalStack } from '../../../workers/local-stack';
import { freePort } from '../../support/ports';
import { sql } from '../../support/duckdb-sql';
import { campaignFaults, chaosStudents, unleash, type Strike } from './faults';
import { lineageOf } from '../../../cli/lineage-source';
import { producerLine } from '../../../cli/lineage';
import { activityOutcome, retriedActivities } from './observe';

const minutes = 60_000;
const CAMPAIGN = 'chaos-tiny';
const STALL_S = 60;

export interface UndisturbedRun {
  result: CampaignResult;
  /** Its store was `<stateDir>/store`; the chaos run writes a fresh store at the same path. */
  stateDir: string;
}

/** How a campaign ended: its stages, and the failure that names the stages that failed. */
interface CampaignEnd {
  progress: CampaignProgress;
  failure?: { type?: string; message: string };
}

/** Waits for the campaign's end across a server restart (the long poll fails while it is down). */
async function endAcrossOutages(handle: WorkflowHandle<typeof campaign>): Promise<CampaignEnd> {
  for (;;) {
    try {
      const result: CampaignResult = await handle.result();
      return { progress: result.progress };
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        // A failed campaign still answers its progress query (replayed by the worker).
        const cause = err.cause as { type?: string; message: string } | undefined;
        return { progress: await handle.query(progressQuery), failure: { type: cause?.type, message: cause?.message ?? err.message } };
      }
      const text = String((err as Error).message ?? err);
      if (!/unavailable|connect|ECONNREFUSED|deadline|transport|14 /i.test(text)) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** The stages of one student's branch: what its failure may stop, and what a rerun may redo. */
const branchOf = (student: string) => [`sft-${student}`, `merge-${student}`, `choose-${student}`, `evaluate-${student}`];

/** Files named `name` anywhere below `dir`. */
function filesNamed(dir: string, test: (file: string) => boolean): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

const list = (files: string[]) => `[${files.map((f) => `'${f}'`).join(', ')}]`;

export function describeChaos(undisturbed: () => UndisturbedRun | undefined) {
  describe('chaos: the same campaign survives eight faults', () => {
    let stack: LocalStack;
    let client: Client;
    let recipe: Recipe;
    let loadedSha: string;
    let reference: UndisturbedRun;
    let end: CampaignEnd;
    let strikes: Strike[] = [];
    const stageOf = (name: string): StageReport => {
      const s = end.progress.stages.find((x) => x.stage === name);
      if (!s) throw new Error(`no stage ${name} in the chaos campaign`);
      return s;
    };
    const crashingBranch = branchOf(chaosStudents.crashing);

    beforeAll(async () => {
      const ref = undisturbed();
      if (!ref) throw new Error('the undisturbed run did not finish: nothing to compare the chaos run with');
      reference = ref;
      // Plain payloads, so the suite can read heartbeats from describe(); the codec has its own test.
      delete process.env.HALA_CODEC_KEY;
      stack = await startLocalStack({
        stateDir: ref.stateDir,
        port: await freePort(),
        uiPort: await freePort(),
        // Heartbeats reach the server every 0.2 s, so the faults see a ~2 s shard half done and strike.
        // Runners exec'd, as production starts them (no fork server): the faults strike the processes
        // a GPU node runs. The undisturbed run forked them (the local stack's default), so the digest
        // checks below also hold exec'd runners to the forked ones' bytes. The forked path's kills,
        // signals and cancels: test_fork_server*.py, test_cancel.py.
        workerEnv: { HALA_WORK_DIR: path.join(ref.stateDir, 'work-chaos'), HALA_HEARTBEAT_THROTTLE_S: '0.2', HALA_RUNNER_PRELOAD: '' },
        // Each fault strikes the one runner of its worker (faults.ts): one activity per worker.
        slots: 1,
      });
      client = new Client({ connection: await Connection.connect({ address: stack.address }) });
      const loaded = loadRecipe(path.join(__dirname, '../../../recipes/tiny.yaml'));
      if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
      // The stage keys of what it runs equal the undisturbed run's (timeouts are in no key).
      // A short heartbeat timeout makes a dead worker's activity move on in seconds.
      recipe = {
        ...loaded.recipe,
        store: { ...loaded.recipe.store, root: stack.storeRoot },
        // A runner silent for a minute is hung: the tiny world's quietest legitimate step takes seconds.
        timeouts: { ...loaded.recipe.timeouts, heartbeat_s: 20, stall_s: STALL_S },
      };
      loadedSha = loaded.sha256;
      const t0 = Date.now();
      const handle = await startCampaign(client, recipe, loaded.sha256, { id: CAMPAIGN });
      let finished = false;
      const faults = unleash(client, stack, CAMPAIGN, campaignFaults(recipe.stages.train_translator.save_every_steps), () => finished, (line) => console.log(line));
      faults.catch(() => undefined);
      end = await endAcrossOutages(handle);
      finished = true;
      console.log(`chaos campaign wall time: ${((Date.now() - t0) / 1000).toFixed(0)} s; ended ${end.failure ? `failed: ${end.failure.message}` : 'completed'}`);
      strikes = await faults;
    }, 40 * minutes);

    afterAll(async () => {
      await stack?.stop();
      if (!end) console.error(`chaos: the campaign never ended; logs kept in ${stack?.logDir}`);
    }, 2 * minutes);

    const strike = (prefix: string) => {
      const s = strikes.find((x) => x.scenario.startsWith(prefix));
      if (!s) throw new Error(`the fault "${prefix}" never struck`);
      return s;
    };

    it('completes every stage but the crashing student\'s branch after every fault struck', () => {
      expect(strikes.map((s) => s.scenario)).toHaveLength(8);
      const unfinished = end.progress.stages.filter((s) => s.status !== 'completed').map((s) => s.stage);
      expect(unfinished.sort()).toEqual([...crashingBranch].sort());
      for (const s of strikes) console.log(`chaos: ${s.scenario}: ${s.scenario.includes('every attempt') ? 'failed alone' : 'survived'}`);
    });

    it('writes artifacts byte-identical to the undisturbed run, but for the student whose batch was halved', () => {
      const differing: string[] = [];
      const finished = end.progress.stages.filter((s) => s.status === 'completed');
      const halvedBranch = branchOf(chaosStudents.outOfMemory);
      for (const s of finished) {
        const before = reference.result.progress.stages.find((r) => r.stage === s.stage);
        // The halved student's merge, choice and evaluate read its new model: their keys follow its digest.
        const readsHalved = halvedBranch.includes(s.stage) && s.stage !== halvedBranch[0];
        if (!readsHalved) expect(before?.stage_key, `stage ${s.stage} has the undisturbed run's key`).toBe(s.stage_key);
        const now = s.artifacts.map((a) => a.sha256);
        const then = before!.artifacts.map((a) => a.sha256);
        if (JSON.stringify(now) !== JSON.stringify(then)) differing.push(s.stage);
      }
      console.log(`chaos: ${finished.length - differing.length}/${finished.length} finished stages byte-identical to the undisturbed run; differing: ${differing.join(', ') || 'none'}`);
      // Half the batch with twice the accumulation is the same optimisation, summed in another order.
      expect(differing.filter((stage) => !halvedBranch.includes(stage))).toEqual([]);
    });

    it('translates every source text exactly once', async () => {
      const storeDir = path.join(reference.stateDir, 'store', 'stages');
      for (const stage of ['build-bilingual-corpus', 'translate-instructions']) {
        // One unit per prepared segment list (the teacher's; one per instruction set): the translation
        // cache sends each distinct text of a unit to the GPUs once, its repeats take that translation.
        const units = readdirSync(path.join(storeDir, stage), { recursive: true, withFileTypes: true })
          .filter((e) => e.isDirectory() && e.name === 'segments')
          .map((e) => e.parentPath);
        expect(units.length, `${stage} segment lists`).toBeGreaterThan(0);
        for (const unit of units) {
          const shards = filesNamed(path.join(unit, 'segments'), (f) => /^shard-.*\.parquet$/.test(f));
          const outputs = filesNamed(path.join(unit, 'translations'), (f) => f === 'translations.parquet');
          const [row] = await sql(`
            WITH src AS (SELECT DISTINCT text FROM read_parquet(${list(shards)})),
                 out AS (SELECT text FROM read_parquet(${list(outputs)}))
            SELECT (SELECT count(*) FROM src) AS source_texts,
                   (SELECT count(*) FROM out) AS translated_rows,
                   (SELECT count(DISTINCT text) FROM out) AS distinct_texts,
                   (SELECT count(*) FROM (SELECT text FROM src EXCEPT SELECT text FROM out)) AS missing`);
          const name = path.relative(storeDir, unit);
          console.log(`chaos: ${name}: ${row!.source_texts} distinct source texts, ${row!.translated_rows} translated, ${row!.distinct_texts} distinct, ${row!.missing} missing`);
          expect(Number(row!.missing), name).toBe(0);
          expect(Number(row!.translated_rows), name).toBe(Number(row!.source_texts));
          expect(Number(row!.distinct_texts), name).toBe(Number(row!.source_texts));
        }
      }
    });

    it('kill -9 mid-train: the retry resumes from the last checkpoint (rework at most one checkpoint interval)', async () => {
      const s = strike('kill -9 the Python train runner');
      const outcome = await activityOutcome(client, s.victim.workflowId, s.victim.activityId);
      const resumedFrom = Number(outcome.result?.resumed_from_step);
      const rework = s.victim.progress!.done - resumedFrom;
      const interval = recipe.stages.train_translator.save_every_steps;
      console.log(`chaos: kill -9 mid-train: killed at step >= ${s.victim.progress!.done}/${s.victim.progress!.total}, attempt ${outcome.attempt} (after ${outcome.lastFailure}) resumed from step ${resumedFrom}: ${rework} steps redone (checkpoint interval ${interval})`);
      expect(outcome.attempt).toBeGreaterThanOrEqual(2);
      expect(rework).toBeLessThanOrEqual(interval);
      // Lineage keeps the retry: the translator's producer shows more attempts than calls.
      const train = (await lineageOf(CAMPAIGN, stack.storeRoot)).nodes.find((n) => n.stage === 'train-translator');
      console.log(`chaos: lineage of the translator: ${producerLine(train!)}`);
      expect(train?.activities?.find((a) => a.activity === 'train_sft')?.retries).toBeGreaterThanOrEqual(1);
    });

    it('kill -9 the infer worker mid-translate: the retry reuses every finished chunk', async () => {
      const s = strike('kill -9 the Python infer worker');
      const outcome = await activityOutcome(client, s.victim.workflowId, s.victim.activityId);
      const reused = Number(outcome.result?.resumed_rows);
      const batch = Math.max(recipe.generation.teacher.batch_size, recipe.generation.translator.batch_size); // the victim is either's shard
      console.log(`chaos: kill -9 infer worker: frozen and killed with ${s.victim.progress!.done} rows in finished chunks; attempt ${outcome.attempt} (after ${outcome.lastFailure}) reused ${reused} rows; rows lost with the kill: at most the unfinished chunk (${batch} rows)`);
      expect(outcome.attempt).toBeGreaterThanOrEqual(2);
      expect(reused).toBe(s.victim.progress!.done); // every finished chunk, and nothing the kill interrupted
    });

    it('SIGTERM mid-sft: the runner checkpoints at once and the retry redoes no step', async () => {
      const s = strike('SIGTERM the Python train worker');
      const outcome = await activityOutcome(client, s.victim.workflowId, s.victim.activityId);
      const resumedFrom = Number(outcome.result?.resumed_from_step);
      console.log(`chaos: SIGTERM mid-sft: signalled at step >= ${s.victim.progress!.done}/${s.victim.progress!.total}; attempt ${outcome.attempt} (after ${outcome.lastFailure}) resumed from step ${resumedFrom}: 0 steps redone before the signal`);
      expect(outcome.lastFailure).toBe('Preempted'); // failed at once, not by a heartbeat timeout
      expect(resumedFrom).toBeGreaterThanOrEqual(s.victim.progress!.done);
    });

    it('SIGSTOP a runner: the watchdog kills it once stall_s has passed, and its retry completes', async () => {
      const s = strike('SIGSTOP the Python eval runner');
      const outcome = await activityOutcome(client, s.victim.workflowId, s.victim.activityId);
      const quiet = Number(/sent no progress for (\d+) s/.exec(outcome.lastFailureMessage ?? '')?.[1]);
      console.log(`chaos: SIGSTOP eval runner at ${s.victim.progress?.phase} ${s.victim.progress?.done}/${s.victim.progress?.total}: killed after ${quiet} s without progress (stall_s ${STALL_S}); attempt ${outcome.attempt} (after ${outcome.lastFailure}) completed`);
      expect(outcome.lastFailure).toBe('Stalled');
      expect(outcome.attempt).toBeGreaterThanOrEqual(2);
      // Noticed within stall_s plus one watchdog tick (1 s) and the heartbeat throttle, not at start-to-close (12 h).
      expect(quiet).toBeGreaterThanOrEqual(STALL_S);
      expect(quiet).toBeLessThanOrEqual(STALL_S + 2);
      expect(outcome.result?.average).toBeDefined();
    });

    it('out of memory mid-sft: the retry trains at half the batch with twice the accumulation, and lineage says so', async () => {
      const s = strike('cap the memory of the Python train runner');
      const outcome = await activityOutcome(client, s.victim.workflowId, s.victim.activityId);
      const student = recipe.stages.sft.students.find((x) => x.name === chaosStudents.outOfMemory)!;
      console.log(`chaos: out of memory at step ${s.victim.progress!.done}/${s.victim.progress!.total}: "${outcome.lastFailureMessage}"; attempt ${outcome.attempt} trained at per_device_batch_size ${outcome.result?.per_device_batch_size} x ${outcome.result?.gradient_accumulation_steps} (recipe: ${student.per_device_batch_size} x ${student.gradient_accumulation_steps})`);
      expect(outcome.lastFailure).toBe('OutOfMemory');
      expect(outcome.attempt).toBeGreaterThanOrEqual(2);
      expect(outcome.result).toMatchObject({ per_device_batch_size: student.per_device_batch_size / 2, gradient_accumulation_steps: student.gradient_accumulation_steps * 2, oom_halvings: 1 });
      expect(stageOf(`sft-${student.name}`).metrics).toMatchObject({ oom_halvings: 1, per_device_batch_size: student.per_device_batch_size / 2 });
      const node = (await lineageOf(CAMPAIGN, stack.storeRoot)).nodes.find((n) => n.stage === `sft-${student.name}`);
      expect(node?.metrics).toMatchObject({ oom_halvings: 1 });
    });

    it('a student whose runner crashes on every attempt fails alone: RunnerFailed after retries.runner_failed attempts', async () => {
      const s = strike('SIGSEGV the Python train runner on every attempt');
      const sft = stageOf(`sft-${chaosStudents.crashing}`);
      console.log(`chaos: ${sft.stage} ${sft.status} after attempt ${s.victim.attempt}: ${sft.error_type}: ${sft.error}; campaign: ${end.failure?.message}`);
      expect(s.victim.attempt).toBe(recipe.retries.runner_failed);
      expect(sft).toMatchObject({ status: 'failed', error_type: 'RunnerFailed' });
      expect(end.failure?.type).toBe('CampaignFailed');
      expect(end.failure?.message).toContain(`1 stage failed: sft-${chaosStudents.crashing} (RunnerFailed`);
      // Its dependents never started; the students beside it finished every stage.
      expect(crashingBranch.slice(1).map((name) => stageOf(name).status)).toEqual(['pending', 'pending', 'pending']);
      for (const student of [chaosStudents.preempted, chaosStudents.outOfMemory]) {
        expect(branchOf(student).map((name) => stageOf(name).status)).toEqual(['completed', 'completed', 'completed', 'completed']);
      }
    });

    it('kill -9 the TypeScript worker and a server restart lose nothing: workflows replay, activities retry', async () => {
      const retried = await retriedActivities(client, CAMPAIGN);
      console.log(`chaos: ${retried.length} activities needed a retry:\n  ${retried.join('\n  ')}`);
      expect(strike('kill -9 the TypeScript worker').victim.activityType).toBe('compress_teacher');
      expect(strike('restart the Temporal dev server').victim.activityType).toBe('train_sft');
      expect(stack.workers.cpu.restarts()).toBeGreaterThanOrEqual(1);
    });

    // Last: it runs the crashing student's branch again, now without the fault.
    it('running the same recipe again redoes only the failed branch, with the undisturbed run\'s digests', async () => {
      const t0 = Date.now();
      const rerun = await endAcrossOutages(await startCampaign(client, recipe, loadedSha, { id: `${CAMPAIGN}-rerun` }));
      const ran = rerun.progress.stages.filter((s) => s.status !== 'cached').map((s) => `${s.stage} ${s.status}`);
      console.log(`chaos: rerun in ${((Date.now() - t0) / 1000).toFixed(0)} s: ran ${ran.join(', ')}; ${rerun.progress.stages.length - ran.length} stages from the cache`);
      expect(rerun.failure).toBeUndefined();
      expect(ran.sort()).toEqual(crashingBranch.map((stage) => `${stage} completed`).sort());
      for (const stage of crashingBranch) {
        const now = rerun.progress.stages.find((x) => x.stage === stage)!;
        const then = reference.result.progress.stages.find((x) => x.stage === stage)!;
        expect(now.artifacts.map((a) => a.sha256), `${stage} as in the undisturbed run`).toEqual(then.artifacts.map((a) => a.sha256));
      }
    }, 15 * minutes);
  });
}
