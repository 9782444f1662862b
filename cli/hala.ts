#!/usr/bin/env -S npx tsx
// The `hala` command.
//   hala up [--then-run <recipe>] [--keep]      the local stack (dev server + UI :8233, workers)
//   hala run <recipe> [--id ID] [--watch] [--no-cache] [--rerun STAGE...]
//   hala status <campaign-id> [--json]
// Run through npm:  npm run hala -- run recipes/tiny.yaml --watch
import { Client, Connection } from '@temporalio/client';
import { Command } from 'commander';
import type { CampaignProgress } from '../contracts/campaign';
import { progressQuery } from '../workflows/definitions';
import type { CampaignResult } from '../workflows/campaign';
import { startLocalStack } from '../workers/local-stack';
import { loadRecipe } from './recipe-file';
import { plannedStages } from '../workflows/stages/plan';
import { startCampaign } from './start-campaign';
import { renderSummary } from './summary';
import { watchCampaign } from './watch';
import { dataConverterFromEnv } from '../security/data-converter';
import { loadCodecKeys } from '../security/codec-key';
import { startCodecServer } from './codec-server';
import { lineageOf } from './lineage-source';
import { toDot, toMermaid, toText } from './lineage';

const program = new Command('hala').description('Hala Flow: the translate-and-tune recipe as durable Temporal workflows');
const defaultAddress = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const uiUrl = process.env.HALA_UI_URL ?? 'http://localhost:8233';

function validRecipe(file: string) {
  const loaded = loadRecipe(file);
  if (!loaded.ok) {
    console.error(`hala: ${file} is not a valid recipe (${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}); nothing was started:`);
    for (const p of loaded.problems) console.error(`  ${p}`);
    process.exit(2);
  }
  return loaded;
}

async function client(address: string): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address }), dataConverter: dataConverterFromEnv() });
}

interface RunFlags { id?: string; watch?: boolean; cache: boolean; rerun?: string[]; address: string }

async function run(file: string, flags: RunFlags): Promise<CampaignResult | undefined> {
  const { recipe, sha256 } = validRecipe(file);
  const planned = plannedStages(recipe).map((s) => s.stage);
  const unknown = (flags.rerun ?? []).filter((s) => !planned.includes(s));
  if (unknown.length > 0) {
    console.error(`hala: --rerun names no stage of ${file}: ${unknown.join(', ')}; its stages are ${planned.join(', ')}`);
    process.exit(2);
  }
  const c = await client(flags.address);
  const handle = await startCampaign(c, recipe, sha256, { id: flags.id, useCache: flags.cache, rerun: flags.rerun });
  console.log(`hala: started campaign ${handle.workflowId} (${uiUrl}/namespaces/default/workflows/${encodeURIComponent(handle.workflowId)})`);
  const forced = flags.cache ? flags.rerun ?? [] : planned;
  if (forced.length > 0) {
    console.log(`hala: recomputing ${flags.cache ? forced.join(', ') : 'every stage'} from scratch, under fresh prefixes (no cache, no earlier checkpoints)`);
  }
  if (!flags.watch) return undefined;
  await watchCampaign(handle);
  try {
    const result = await handle.result();
    console.log('\n' + renderSummary(result.progress, uiUrl));
    return result;
  } catch (err) {
    const progress: CampaignProgress | undefined = await handle.query(progressQuery).catch(() => undefined);
    if (progress) console.error('\n' + renderSummary(progress, uiUrl));
    console.error(`hala: campaign ${handle.workflowId} failed: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`);
    process.exitCode = 1;
    return undefined;
  }
}

program
  .command('up')
  .description('start the local stack: Temporal dev server (SQLite, UI on :8233), CPU worker, Python workers')
  .option('--then-run <recipe>', 'run a recipe with --watch once the stack is up')
  .option('--keep', 'keep the stack up after --then-run finishes (default when interactive)')
  .action(async (opts: { thenRun?: string; keep?: boolean }) => {
    const recipe = opts.thenRun ? validRecipe(opts.thenRun).recipe : undefined;
    const t0 = Date.now();
    const stack = await startLocalStack({ queues: recipe?.queues });
    console.log(`hala: stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s — Temporal ${stack.address}, UI ${stack.uiUrl}, store ${stack.storeRoot}`);
    const stop = async () => {
      await stack.stop();
      process.exit(process.exitCode ?? 0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    if (opts.thenRun) {
      const t1 = Date.now();
      await run(opts.thenRun, { watch: true, cache: true, address: stack.address });
      console.log(`hala: campaign wall time ${((Date.now() - t1) / 1000).toFixed(0)} s`);
      if (!(opts.keep ?? process.stdout.isTTY)) return stop();
    }
    console.log('hala: stack running; Ctrl-C stops it');
  });

program
  .command('run <recipe>')
  .description('validate a recipe and start its campaign')
  .option('--id <id>', 'campaign (workflow) id; default <recipe name>-<timestamp>')
  .option('--watch', 'follow progress and print the summary at the end')
  .option('--no-cache', 'recompute every stage from scratch under fresh prefixes (no cache, no earlier checkpoints)')
  .option('--rerun <stage...>', 'recompute these stages from scratch (names as in the summary, e.g. sft-hala-350m)')
  .option('--address <host:port>', 'Temporal frontend', defaultAddress)
  .action(async (file: string, flags: RunFlags) => {
    await run(file, flags);
  });

program
  .command('status <campaign-id>')
  .description('show a campaign: stages, artifacts, metrics')
  .option('--json', 'print the progress as JSON')
  .option('--address <host:port>', 'Temporal frontend', defaultAddress)
  .action(async (id: string, flags: { json?: boolean; address: string }) => {
    const c = await client(flags.address);
    const progress = await c.workflow.getHandle(id).query(progressQuery);
    console.log(flags.json ? JSON.stringify(progress, null, 2) : renderSummary(progress, uiUrl));
  });

program
  .command('lineage <campaign-or-artifact>')
  .description('walk from a campaign\'s final models (or one artifact sha256) back to the raw sources')
  .option('--json', 'the graph as JSON (nodes, edges)')
  .option('--mermaid', 'the graph as a Mermaid flowchart')
  .option('--dot', 'the graph as Graphviz dot')
  .option('--store <uri>', 'artifact store root', process.env.HALA_STORE_ROOT ?? 'file://.hala/store')
  .action(async (target: string, flags: { json?: boolean; mermaid?: boolean; dot?: boolean; store: string }) => {
    const graph = await lineageOf(target, flags.store);
    console.log(flags.json ? JSON.stringify(graph, null, 2) : flags.mermaid ? toMermaid(graph) : flags.dot ? toDot(graph) : toText(graph));
  });

program
  .command('codec-server')
  .description('serve the payload codec to the Temporal UI (needs HALA_CODEC_KEY)')
  .option('--port <port>', 'loopback port', '8888')
  .action(async (flags: { port: string }) => {
    const keys = loadCodecKeys(process.env);
    if (!keys) throw new Error('set HALA_CODEC_KEY (base64 of 32 bytes) or HALA_CODEC_KEY_FILE first');
    await startCodecServer({ port: Number(flags.port), keys, corsOrigin: uiUrl });
    console.log(`hala: codec server on http://127.0.0.1:${flags.port} (set it as the codec endpoint in the Temporal UI)`);
  });

program.parseAsync().catch((err: Error) => {
  console.error(`hala: ${err.message}`);
  process.exit(1);
});
