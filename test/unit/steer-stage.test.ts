// `hala steer <campaign> <stage> pause|unpause`: which activities it finds (the stage's and its
// fan-outs') and the sentence it refuses with when there is nothing to steer. The Temporal calls
// themselves are exercised against a real server by gpu-runners/tests/test_steering.py.
import { describe, expect, it } from 'vitest';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { stageActivities, targetsOf } from '../../cli/steer-stage';
import { NotSteerable } from '../../cli/steer';

const { PendingActivityState } = temporal.api.enums.v1;
const running = { status: { name: 'RUNNING' } };

function fakeClient(workflows: Record<string, { status?: string; pendingActivities?: object[]; pendingChildren?: object[] }>): Client {
  const getHandle = (id: string) => ({
    describe: async () => {
      const w = workflows[id];
      if (!w) throw new WorkflowNotFoundError('not found', id, undefined);
      return { ...running, status: { name: w.status ?? 'RUNNING' }, raw: { pendingActivities: w.pendingActivities, pendingChildren: w.pendingChildren } };
    },
  });
  return { workflow: { getHandle } } as unknown as Client;
}

const act = (id: string, state = PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) => ({ activityId: id, activityType: { name: 'train_sft' }, state });

describe('hala steer: the stage and its activities', () => {
  it('finds the activities of the stage and of its translation fan-outs', async () => {
    const client = fakeClient({
      'c/translate': { pendingActivities: [act('prep')], pendingChildren: [{ workflowId: 'c/translate/translate' }, { workflowId: 'c/other' }] },
      'c/translate/translate': { pendingActivities: [act('shard-1'), act('shard-2', PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED)] },
    });
    const found = await stageActivities(client, 'c', 'translate');
    expect(found.map((a) => [a.workflowId, a.activityId, a.paused])).toEqual([
      ['c/translate', 'prep', false], ['c/translate/translate', 'shard-1', false], ['c/translate/translate', 'shard-2', true],
    ]);
  });

  it('refuses a stage that does not exist, or does not run, naming it', async () => {
    const client = fakeClient({ 'c/sft': { status: 'COMPLETED' } });
    await expect(stageActivities(client, 'c', 'sfft')).rejects.toThrow(new NotSteerable('no stage sfft in campaign c (no workflow c/sfft; hala status c lists the stages)'));
    await expect(stageActivities(client, 'c', 'sft')).rejects.toThrow('stage sft of c is not running: only a running stage can be steered');
  });

  it('says there is nothing to steer, or that it is already so', () => {
    const one = { workflowId: 'c/sft', activityId: '1', type: 'train_sft', paused: false };
    expect(() => targetsOf('pause', 'sft', [])).toThrow('stage sft has no activity scheduled or running right now: nothing to pause');
    expect(() => targetsOf('pause', 'sft', [{ ...one, paused: true }])).toThrow('stage sft is already paused');
    expect(() => targetsOf('unpause', 'sft', [one])).toThrow('stage sft is not paused');
    expect(targetsOf('pause', 'sft', [one, { ...one, activityId: '2', paused: true }])).toEqual([one]);
  });
});
