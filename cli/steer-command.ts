// `hala steer <campaign-id> <stage> <action>`: its flags and help, wired to the calls that steer one
// running stage (cli/steer-stage.ts: pause, unpause; cli/steer-options.ts: limits, move).
import type { Client } from '@temporalio/client';
import { Command } from 'commander';
import type { Recipe } from '../contracts/recipe';
import { ExitCode } from './conventions';
import { NotSteerable } from './steer';
import { queueOf, updateStageOptions } from './steer-options';
import { steerActions, steerStage, type SteerAction } from './steer-stage';

interface SteerFlags {
  heartbeatS?: number;
  retries?: number;
  stallS?: number;
  to?: string;
  recipe?: string;
}

const steerVerbs = [...steerActions, 'limits', 'move'];

/** The verb; `connect` and `recipeOf` are hala.ts's (the connection flags, the recipe checks). */
export function steerCommand(connect: () => Promise<Client>, recipeOf: (file: string) => Recipe): Command {
  return new Command('steer')
    .argument('<campaign-id>')
    .argument('<stage>')
    .argument('<action>')
    .description(`steer one running stage: ${steerVerbs.join(' | ')}`)
    .option('--heartbeat-s <n>', 'limits: seconds without a heartbeat before an attempt times out', Number)
    .option('--retries <n>', 'limits: attempts in all (the retry policy)', Number)
    .option('--stall-s <n>', 'limits: seconds without progress before a runner counts as hung (the running one included)', Number)
    .option('--to <class>', "move: a resource class of --recipe, or a task queue's name")
    .option('--recipe <file>', "move: the campaign's recipe, whose resources.classes --to names")
    .addHelpText('after', `
pause: its running activities checkpoint at the current step and stop (the GPUs are free; nothing runs).
unpause: the next attempt resumes from that checkpoint; the pause does not use up a retry.
limits: change the heartbeat timeout and attempts of its pending activities, and the stall limit its
  runners are watched with (a running runner's watchdog asks its stage every 15 s).
move: schedule their next attempts on another pool; pause, move, unpause moves a running one now, from its checkpoint.
Refused (exit 2): no such stage, a stage not running, nothing scheduled, already (un)paused.`)
    .action(async (id: string, stage: string, action: string, flags: SteerFlags) => {
      try {
        if (!steerVerbs.includes(action)) throw new NotSteerable(`unknown action ${action}: ${steerVerbs.join(', ')}`);
        const client = await connect();
        const options = action === 'limits' ? { heartbeatS: flags.heartbeatS, retries: flags.retries, stallS: flags.stallS }
          : { queue: flags.to === undefined ? undefined : queueOf(flags.to, flags.recipe ? recipeOf(flags.recipe) : undefined) };
        const said = action === 'limits' || action === 'move' ? await updateStageOptions(client, id, stage, options)
          : await steerStage(client, id, stage, action as SteerAction);
        console.log(`hala: ${said}`);
      } catch (err) {
        if (!(err instanceof NotSteerable)) throw err;
        console.error(`hala steer: ${err.message}`);
        process.exitCode = ExitCode.refused;
      }
    });
}
