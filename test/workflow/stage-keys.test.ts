// A stage key is exactly what its stage reads: for every leaf knob of both recipes, the stages whose
// key holds the knob are exactly the stages that read it. Neither side is written by hand; both are
// observed on the real campaign workflow (recording stand-ins, real stage cache, dev server):
//   - a stage's key material is what it hands openStage (its name, config and source URIs);
//   - what it reads is what its work hands its activities and child workflows, and what it reports
//     (the stage output), with store locations and digests blanked out, since those follow the key.
// Each number and string knob gets a unique value (a token) in one traced run, and is then looked for
// on both sides; each boolean is flipped in a run of its own and both sides compared with the traced run.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../activities/stage-key';
import { isArtifactDigest } from '../../activities/source-digests';
import type { HubFetch } from '../../activities/hub-revision-lookup';
import { loadRecipe } from '../../cli/recipe-file';
import { campaignInput } from '../../cli/start-campaign';
import type { Recipe } from '../../contracts/recipe';
import type { campaign } from '../../workflows/campaign';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import type { Call } from '../support/fake-activities';
import { createLocalEnv } from '../support/temporal-env';

type Leaf = { path: (string | number)[]; token?: string };

/** Every leaf of the recipe; numbers and strings get a unique token value, booleans are left for flipping. */
function traceRecipe(recipe: Recipe): { traced: Recipe; leaves: Leaf[] } {
  const leaves: Leaf[] = [];
  const walk = (value: unknown, at: (string | number)[]): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...at, i]));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...at, k])]));
    }
    // The harness owns the store root (a temporary directory): not a knob of the recipe under test.
    if (at.join('.') === 'store.root') return value;
    // Checks judge the figures stages report, after them: no knob of any stage (the fakes' figures would miss them).
    if (at[0] === 'checks') return value;
    // The translation fan-out judges its error-rate bound itself (workflows/quarantine-rate.ts) and hands it to
    // no activity, so no call shows it read; test/workflow/poison-rows.test.ts shows a changed bound reruns the stage.
    if (at[at.length - 1] === 'max_error_rate') return value;
    const k = leaves.length;
    if (typeof value === 'number') {
      const token = String(7_000_001 + 2 * k);
      leaves.push({ path: at, token });
      return Number(token);
    }
    if (typeof value === 'string') {
      const token = `~k${k}~`;
      leaves.push({ path: at, token });
      return `${value}${token}`;
    }
    leaves.push({ path: at });
    return value;
  };
  return { traced: walk(recipe, []) as Recipe, leaves };
}

function flipped(recipe: Recipe, at: (string | number)[]): Recipe {
  const copy = structuredClone(recipe) as unknown as Record<string | number, unknown>;
  let node = copy;
  for (const p of at.slice(0, -1)) node = node[p] as Record<string | number, unknown>;
  const last = at[at.length - 1]!;
  node[last] = !node[last];
  return copy as unknown as Recipe;
}

/**
 * Store locations, artifact references and timings follow the key (or the clock), not the knobs; supervision is how, not what;
 * the campaign's id (the translation cache's lineage, in translate_shard's input) names who ran it, not what it computes.
 */
function blank(value: unknown, storeRoot: string): unknown {
  if (Array.isArray(value)) return value.map((v) => blank(v, storeRoot));
  if (value !== null && typeof value === 'object') {
    if ('sha256' in value && 'uri' in value) return '<artifact>';
    const drop = new Set(['stage_key', 'output_prefix', 'supervision', 'run', 'activities', 'sources', 'campaign_id']);
    return Object.fromEntries(Object.entries(value).filter(([k]) => !drop.has(k)).map(([k, v]) => [k, blank(v, storeRoot)]));
  }
  if (typeof value === 'string' && value.includes(storeRoot)) return '<store>';
  // A bare digest (the translation cache's model_sha256) is an artifact reference too.
  if (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)) return '<digest>';
  return value;
}

interface Observed {
  /** stage -> what its key was made of */
  keyed: Map<string, string>;
  /** stage -> its name, what it handed its activities and what it reported, sorted (fan-outs run in any order) */
  read: Map<string, string>;
}

function observe(calls: Call[], storeRoot: string): Observed {
  const keyed = new Map<string, string>();
  const reads = new Map<string, string[]>();
  const add = (stage: string, text: string) => reads.set(stage, [...(reads.get(stage) ?? [stage]), text]);
  for (const { name, input } of calls) {
    if (name === 'openStage') {
      const inputs = (input.inputs as string[]).filter((i) => !isArtifactDigest(i));
      keyed.set(input.stage as string, canonicalJson({ stage: input.stage, config: input.config, inputs }));
    } else if (name === 'closeStage') {
      add(input.stage as string, canonicalJson(blank(input.output, storeRoot)));
    } else {
      const stage = /\/stages\/([^/]+)\//.exec(String(input.output_prefix))?.[1];
      if (stage) add(stage, canonicalJson(blank(input, storeRoot)));
    }
  }
  return { keyed, read: new Map([...reads].map(([s, texts]) => [s, texts.sort().join('\n')])) };
}

const holds = (text: string | undefined, token: string) =>
  text !== undefined && (/^\d+$/.test(token) ? new RegExp(`(?<![\\d.])${token}(?![\\d.])`).test(text) : text.includes(token));

/** A stand-in for the hub's revision API: every repo's `main` is a commit named after it. */
const hubFetch: HubFetch = async (url) => ({ ok: true, status: 200, json: async () => ({ sha: createHash('sha1').update(url).digest('hex') }) });

describe.each(['tiny', 'hala-paper'])('stage keys of recipes/%s.yaml', (recipeName) => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let traced: Recipe;
  let leaves: Leaf[];

  beforeAll(async () => {
    const loaded = loadRecipe(path.join(__dirname, `../../recipes/${recipeName}.yaml`));
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    ({ traced, leaves } = traceRecipe(loaded.recipe));
    env = await createLocalEnv();
    harness = await startCampaignHarness(env, { recipe: traced, hubFetch, delayMs: 1 });
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
  });

  let runs = 0;
  async function run(recipe: Recipe): Promise<Observed> {
    const from = harness.fakes.calls.length;
    const id = `keys-${recipeName}-${runs++}`;
    const r = { ...recipe, store: harness.recipe.store, checks: [] };
    // Without the cache every stage works (and so shows what it reads), and still opens with its key.
    const input = campaignInput(r, harness.sha, { id, useCache: false });
    await env.client.workflow.execute<typeof campaign>('campaign', { taskQueue: r.queues.cpu, workflowId: id, args: [input] });
    return observe(harness.fakes.calls.slice(from), harness.recipe.store.root);
  }

  it('puts every knob in the key of exactly the stages that read it', async () => {
    const base = await run(traced);
    const stages = [...base.keyed.keys()].sort();
    const mismatches: string[] = [];
    const compare = (knob: string, keyedBy: string[], readBy: string[]) => {
      const unread = keyedBy.filter((s) => !readBy.includes(s));
      const unkeyed = readBy.filter((s) => !keyedBy.includes(s));
      if (unkeyed.length) mismatches.push(`${knob}: read by ${unkeyed.join(', ')} but not in its key (a stale cache hit)`);
      if (unread.length) mismatches.push(`${knob}: in the key of ${unread.join(', ')} but never read there (needless reruns)`);
    };
    let keyedSomewhere = 0;
    for (const leaf of leaves) {
      const knob = leaf.path.join('.');
      if (leaf.token) {
        const token = leaf.token;
        const keyedBy = stages.filter((s) => holds(base.keyed.get(s), token));
        keyedSomewhere += keyedBy.length > 0 ? 1 : 0;
        compare(knob, keyedBy, stages.filter((s) => holds(base.read.get(s), token)));
      } else {
        const other = await run(flipped(traced, leaf.path));
        // A flipped knob may rename nothing, so the same stages run; any that differ count on both sides.
        const all = [...new Set([...stages, ...other.keyed.keys()])].sort();
        compare(knob, all.filter((s) => base.keyed.get(s) !== other.keyed.get(s)), all.filter((s) => base.read.get(s) !== other.read.get(s)));
      }
    }
    expect(mismatches).toEqual([]);
    // The comparison saw real work: most knobs are some stage's, and every stage read something.
    expect(keyedSomewhere).toBeGreaterThan(leaves.length / 2);
    for (const s of stages) expect(base.read.get(s)?.split('\n').length ?? 0).toBeGreaterThan(1);
  }, 600_000);
});
