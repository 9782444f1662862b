#!/usr/bin/env -S npx tsx
// The `hala` command.
//   hala up [--then-run <recipe>] [--keep]      the local stack (dev server + UI :8233, workers)
//   hala setup                                  prepare a namespace of any cluster (search attributes)
//   hala plan <recipe> [--json]                 rows, sizes, GPU-hours and cost per stage, before any spend
//   hala run <recipe> [--id ID] [--watch] [--no-cache] [--rerun STAGE...] [--over-budget]
//   hala status <campaign-id> [--json] [--no-worker-after <minutes>]
//   hala watch <campaign-id> [--json] [--interval <s>] [--no-worker-after <minutes>]   live bars
//   hala pause | resume | cancel <campaign-id>   steer a running campaign
//   hala steer <campaign-id> <stage> pause|unpause|limits|move   park a running stage at a checkpoint, let it go on, change its limits or pool
//   hala approve <campaign-id> <gate> [--by NAME] [--note TEXT]   let a campaign past an approval gate
//   hala approve <campaign-id> budget --cost-usd N --gpu-hours N   raise its budget: stages held at a cap start
//   hala ls                                     campaigns of the namespace
//   hala workers [<recipe>]                     who polls each queue (the recipe's resource pools too)
//   hala doctor <recipe> [--json] [--timeout-s N] [--store URI]   prove every pool the recipe routes to through its worker
//   hala report <campaign-id> [--out F] [--json] one self-contained HTML report (timeline, cost, loss, scores, lineage)
// Every command takes --profile, --namespace, --address; they connect as the temporal CLI does
// (platform/temporal-connection.ts: flags, TEMPORAL_* variables, TEMPORAL_CONFIG_FILE's profile).
// Run from the clone through the package's own bin:  npx hala run recipes/tiny.yaml --watch
// Examples under each verb's --help and the exit codes: cli/conventions.ts.
import { Command } from 'commander';
import { progressQuery } from '../workflows/definitions';
import { startLocalStack } from '../workers/local-stack';
import { renderSummary } from './summary';
import { noWorkerAfterOption, watchVerb, type WatchFlags } from './follow';
import { runRecipe, validRecipe, type RunFlags } from './run-recipe';
import { campaignNoWorker, noWorkerText } from './no-worker';
import { codecServerCommand } from './codec-server-command';
import { lineageOf } from './lineage-source';
import { toDot, toMermaid, toText } from './lineage';
import { connectClient, openConnection, resolveConnection, type ConnectionFlags, type TemporalConnection } from '../platform/temporal-connection';
import { renderSetupReport, setupNamespace, SetupFailed } from '../platform/cluster-setup';
import { schedulingRequirements } from '../platform/server-scheduling';
import type { Client } from '@temporalio/client';
import { DefaultQueues } from '../contracts/queues';
import { applyConventions, ExitCode } from './conventions';
import { planRecipe } from './plan/plan-recipe';
import { renderPlan } from './plan/render';
import { checkPlanBudget } from './plan/budget-check';
import { ApprovalRefused, approveGate, defaultApprover, raiseBudget, renderApproval } from './approve';
import { raiseLine } from './budget-summary';
import { BUDGET_GATE } from '../contracts/budget';
import { reportCommand, type ReportFlags } from './report/report-command';
import { renderCampaignBuilds, runningCampaignBuilds } from './builds';
import { steerCommand } from './steer-command';
import { cancelCampaign, listCampaigns, NotSteerable, pauseCampaign, renderCampaigns, renderWorkers, resumeCampaign } from './steer';
import { queueWorkers } from '../platform/task-queue-pollers';
import { doctorCommand, type DoctorFlags } from './doctor/command';
import { namespaceMissing, noSuchCampaign, Refused } from './server-refusals';

const program = new Command('hala')
  .description('Hala Flow: the translate-and-tune recipe as durable Temporal workflows')
  .option('--profile <name>', 'profile of the Temporal config file (TEMPORAL_CONFIG_FILE; default TEMPORAL_PROFILE, else "default")')
  .option('--namespace <namespace>', 'Temporal namespace (default TEMPORAL_NAMESPACE, else the profile\'s, else "default")')
  .option('--address <host:port>', 'Temporal frontend (default TEMPORAL_ADDRESS, else the profile\'s, else the local dev server)');
const uiUrl = process.env.HALA_UI_URL ?? 'http://localhost:8233';
/** Where this invocation connects: the global flags over the environment and the profile file. */
const temporalConnection = (): TemporalConnection => resolveConnection(program.opts<ConnectionFlags>());

program
  .command('up')
  .description('start the local stack: Temporal dev server (SQLite, UI on :8233), CPU worker, Python workers')
  .option('--then-run <recipe>', 'run a recipe with --watch once the stack is up')
  .option('--keep', 'keep the stack up after --then-run finishes (default when interactive)')
  .action(async (opts: { thenRun?: string; keep?: boolean }) => {
    const recipe = opts.thenRun ? validRecipe(opts.thenRun).recipe : undefined;
    const temporal = temporalConnection();
    const t0 = Date.now();
    const stack = await startLocalStack({ queues: recipe?.queues, temporal });
    console.log(renderSetupReport(stack.setup));
    console.log(`hala: stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s — Temporal ${stack.temporal.describe}${stack.uiUrl ? `, UI ${stack.uiUrl}` : ''}, store ${stack.storeRoot}`);
    const stop = async () => {
      await stack.stop();
      process.exit(process.exitCode ?? 0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    if (opts.thenRun) {
      const t1 = Date.now();
      await runRecipe(opts.thenRun, { watch: true, cache: true }, stack.temporal, uiUrl);
      console.log(`hala: campaign wall time ${((Date.now() - t1) / 1000).toFixed(0)} s`);
      if (!(opts.keep ?? process.stdout.isTTY)) return stop();
    }
    console.log('hala: stack running; Ctrl-C stops it');
  });

program
  .command('run <recipe>')
  .description('validate a recipe and start its campaign')
  .option('--id <id>', 'campaign (workflow) id; default <recipe name>-<timestamp>')
  .option('--watch', 'follow progress as hala watch does, and print the summary at the end')
  .option('--no-cache', 'recompute every stage from scratch under fresh prefixes (no cache, no earlier checkpoints)')
  .option('--rerun <stage...>', 'recompute these stages from scratch (names as in the summary, e.g. sft-hala-350m)')
  .option('--over-budget', "start even when the plan (hala plan) is over the recipe's budget; the campaign still holds at the cap")
  .action(async (file: string, flags: RunFlags) => {
    await runRecipe(file, flags, temporalConnection(), uiUrl);
  });

program
  .command('plan <recipe>')
  .description("size a recipe's campaign before it starts: rows, shards, artifact sizes, GPU-hours and cost per stage, from its estimates")
  .option('--json', 'the plan as JSON')
  .action(async (file: string, flags: { json?: boolean }) => {
    const { recipe } = validRecipe(file);
    const plan = await planRecipe(recipe);
    const budget = checkPlanBudget(plan.totals, recipe.budget);
    console.log(flags.json ? JSON.stringify({ ...plan, ...(budget && { budget }) }, null, 2) : renderPlan(plan, budget));
  });

program
  .command('setup')
  .description('prepare a namespace of any Temporal cluster: check it exists, register the search attributes (idempotent); say what the server needs for priority and fair share')
  .action(async () => {
    const temporal = temporalConnection();
    console.log(`hala setup: ${temporal.describe}`);
    const connection = await openConnection(temporal);
    try {
      console.log(renderSetupReport(await setupNamespace(connection, temporal)));
      console.log(schedulingRequirements(temporal.namespace).join('\n'));
    } catch (err) {
      if (!(err instanceof SetupFailed)) throw err;
      console.error(`hala setup: ${err.message}`);
      process.exitCode = ExitCode.failed;
    } finally {
      await connection.close();
    }
  });

program
  .command('status <campaign-id>')
  .description('show a campaign: stages, artifacts, metrics, and any stage waiting on a queue nobody serves')
  .option('--json', 'print the progress as JSON (with no_worker: the stages waiting for a worker)')
  .addOption(noWorkerAfterOption())
  .action(async (id: string, flags: { json?: boolean; workerAfter: number }) => {
    const temporal = temporalConnection();
    const c = await connectClient(temporal);
    const progress = await c.workflow.getHandle(id).query(progressQuery).catch((err: unknown) => {
      throw noSuchCampaign(err, id, temporal.namespace) ?? err;
    });
    // The campaign's own answer comes first: a worker check that fails (no permission to describe
    // task queues, say) is named, and status still prints.
    const noWorker = await campaignNoWorker(c, temporal.namespace, progress, flags.workerAfter).catch((err: Error) => {
      console.error(`hala status: could not check for stages waiting on a queue nobody polls: ${err.message}`);
      return [];
    });
    const notes = Object.fromEntries(noWorker.map((n) => [n.stage, noWorkerText(n)]));
    console.log(flags.json ? JSON.stringify({ ...progress, no_worker: noWorker }, null, 2) : renderSummary(progress, uiUrl, temporal.namespace, notes));
  });

program
  .command('watch <campaign-id>')
  .description('follow a campaign live: a bar per running stage (done/total, rate, ETA from heartbeats), finished stages with their headline metrics, then the summary')
  .option('--json', 'newline-delimited JSON snapshots instead, one per interval')
  .option('--interval <seconds>', 'how often to look', '2')
  .addOption(noWorkerAfterOption())
  .addHelpText(
    'after',
    `
On a terminal the block is redrawn in place (colour unless NO_COLOR is set); when stdout is not a
terminal it prints plain lines: one per stage change, and a progress line per running stage at most
every 30 s or at each quarter done. Ctrl-C stops watching, not the campaign.
It exits 1 when the campaign failed or was cancelled, 2 when there is no such campaign.`,
  )
  .action(async (id: string, flags: WatchFlags) => {
    const temporal = temporalConnection();
    await watchVerb(await connectClient(temporal), id, temporal, uiUrl, flags);
  });

/** A steering verb: one call, one sentence; a campaign that cannot be steered exits 2. */
function steer(verb: string, description: string, act: (c: Client, id: string) => Promise<string>) {
  program
    .command(`${verb} <campaign-id>`)
    .description(description)
    .action(async (id: string) => {
      try {
        console.log(`hala: ${await act(await connectClient(temporalConnection()), id)}`);
      } catch (err) {
        if (!(err instanceof NotSteerable)) throw err;
        console.error(`hala ${verb}: ${err.message}`);
        process.exitCode = ExitCode.refused;
      }
    });
}
steer('pause', 'hold a campaign: running stages finish their current shards, nothing new starts', pauseCampaign);
steer('resume', 'let a paused campaign go on', resumeCampaign);
steer('cancel', 'cancel a campaign and its running stages (finished stages stay cached)', cancelCampaign);

program.addCommand(steerCommand(() => connectClient(temporalConnection()), (file) => validRecipe(file).recipe));

program
  .command('approve <campaign-id> <gate>')
  .description(`approve a gate the recipe declares, or raise its budget (gate ${BUDGET_GATE}): the stages held start (exit 0); a refused approval prints why and exits 2`)
  .option('--by <name>', 'who approves, recorded in the lineage of the released stages; the OS user running hala unless given')
  .option('--note <text>', 'why, recorded with the approval')
  .option('--json', 'print the accepted approval and its preview as JSON')
  .option('--cost-usd <n>', `with gate ${BUDGET_GATE}: the new cost cap of the recipe's budget`, Number)
  .option('--gpu-hours <n>', `with gate ${BUDGET_GATE}: the new GPU-hours cap`, Number)
  .addHelpText('after', `\nRefused (exit 2): an unknown gate, one not reached yet, one already approved, no approver, no such campaign.\nGate ${BUDGET_GATE} raises the recipe's budget (--cost-usd, --gpu-hours, each above its cap): stages held at the cap start.`)
  .action(async (id: string, gate: string, flags: { by?: string; note?: string; json?: boolean; costUsd?: number; gpuHours?: number }) => {
    try {
      const client = await connectClient(temporalConnection());
      const by = flags.by ?? defaultApprover();
      if (gate === BUDGET_GATE) {
        const raised = await raiseBudget(client, id, { by, ...(flags.note && { note: flags.note }), ...(flags.costUsd !== undefined && { cost_usd: flags.costUsd }), ...(flags.gpuHours !== undefined && { gpu_hours: flags.gpuHours }) });
        console.log(flags.json ? JSON.stringify(raised, null, 2) : `hala: budget of ${id} ${raiseLine(raised)}: held stages go on`);
        return;
      }
      if (flags.costUsd !== undefined || flags.gpuHours !== undefined) throw new ApprovalRefused(`--cost-usd and --gpu-hours raise the budget: name gate ${BUDGET_GATE}, not ${gate}`);
      const result = await approveGate(client, id, gate, { by, note: flags.note });
      console.log(flags.json ? JSON.stringify(result, null, 2) : `hala: ${renderApproval(id, result)}`);
    } catch (err) {
      if (!(err instanceof ApprovalRefused)) throw err;
      console.error(`hala approve: ${err.message}`);
      process.exitCode = ExitCode.refused;
    }
  });

program
  .command('ls')
  .description('list the campaigns of the namespace, newest first')
  .option('--limit <n>', 'at most this many', '20')
  .option('--json', 'the rows as JSON')
  .action(async (flags: { limit: string; json?: boolean }) => {
    const rows = await listCampaigns(await connectClient(temporalConnection()), Number(flags.limit));
    console.log(flags.json ? JSON.stringify(rows, null, 2) : renderCampaigns(rows));
  });

program
  .command('workers [recipe]')
  .description('which queues have workers polling them, of which builds (the role queues, and the resource pools of a recipe), and which running campaigns are pinned to which build')
  .option('--json', 'the queues with their pollers, and the running campaigns with their builds, as JSON')
  .action(async (file: string | undefined, flags: { json?: boolean }) => {
    const temporal = temporalConnection();
    const recipe = file ? validRecipe(file).recipe : undefined;
    const queues: Record<string, string> = { ...(recipe?.queues ?? DefaultQueues) };
    for (const [name, pool] of Object.entries(recipe?.resources.classes ?? {})) queues[`${name} (class)`] = pool.queue;
    const client = await connectClient(temporal);
    const [rows, campaigns] = await Promise.all([queueWorkers(client, temporal.namespace, queues), runningCampaignBuilds(client)]);
    console.log(flags.json ? JSON.stringify({ queues: rows, campaigns }, null, 2) : `${renderWorkers(rows)}\n\n${renderCampaignBuilds(campaigns)}`);
  });

program
  .command('doctor <recipe>')
  .description('prove every pool the recipe routes to through its real worker: GPUs vs class, versions, all-reduce, engine, FP8, store, hub, scratch')
  .option('--json', 'the rows with every check as JSON')
  .option('--timeout-s <seconds>', 'how long a probe waits for a worker to take it before its queue counts as unserved', '60')
  .option('--store <uri>', "the store root to check (default the recipe's store.root)")
  .addHelpText('after', '\nExit 1 when any pool fails (or nobody polls the cpu queue: then nothing is started), 0 otherwise.')
  .action(async (file: string, flags: DoctorFlags) => {
    const { recipe } = validRecipe(file);
    const temporal = temporalConnection();
    process.exitCode = await doctorCommand(file, recipe, await connectClient(temporal), temporal.namespace, flags);
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
  .command('report <campaign-id>')
  .description('write one self-contained HTML report of a campaign (completed, failed or running): stage timeline, GPU-hours and cost, loss curves, BLEU / chrF++ and benchmarks, corpus funnel, lineage')
  .option('--out <file.html>', 'where to write it (default hala-report-<id>.html)')
  .option('--json', 'print the gathered figures as JSON instead')
  .option('--store <uri>', 'artifact store root', process.env.HALA_STORE_ROOT ?? 'file://.hala/store')
  .addHelpText('after', '\nThe page needs no network: open it in any browser. A campaign with no summary in the store and no workflow is refused (exit 2).')
  .action(async (id: string, flags: ReportFlags) => {
    process.exitCode = await reportCommand(id, flags, () => connectClient(temporalConnection()));
  });

program.addCommand(codecServerCommand(uiUrl));

applyConventions(program);
let verb = '';
program.hook('preAction', (_program, action) => {
  verb = action.name();
});
program.parseAsync().catch((err: Error) => {
  // A refusal the operator can fix (cli/server-refusals.ts) exits 2 with the fix; anything else 1.
  const refused = err instanceof Refused ? err : namespaceOf(err);
  if (refused) console.error(`hala ${verb}: ${refused.message}`);
  else console.error(`hala: ${err.message}`);
  process.exit(refused ? ExitCode.refused : ExitCode.failed);
});

/** The namespace refusal, if that is what `err` is (the connection resolved, since the verb ran). */
function namespaceOf(err: Error): Refused | undefined {
  try {
    return namespaceMissing(err, temporalConnection());
  } catch {
    return undefined; // the connection itself could not be resolved: `err` says why
  }
}
