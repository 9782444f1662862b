// How a campaign's tasks are ordered on a task queue it shares with other campaigns: Temporal's
// Priority (a priority key, lower first; then a fairness key served in proportion to its weight).
// Scheduling says when work runs, never what it makes: it is in no stage key.
import { z } from 'zod';
import type { Priority } from '@temporalio/common';

/** Temporal's default range of priority keys (matching.priorityLevels = 5); the default key is the middle. */
export const PriorityKeys = { highest: 1, lowest: 5, default: 3 } as const;

/** Temporal's limit on a fairness key; the server refuses longer ones. */
const FairnessKeyBytes = 64;
// Counted by hand: this runs in the workflow sandbox too, which has no Buffer.
const utf8Bytes = (s: string) => [...s].reduce((n, ch) => n + (ch.codePointAt(0)! < 0x80 ? 1 : ch.codePointAt(0)! < 0x800 ? 2 : ch.codePointAt(0)! < 0x10000 ? 3 : 4), 0);

export const Scheduling = z
  .strictObject({
    priority: z
      .number()
      .int()
      .min(PriorityKeys.highest)
      .max(PriorityKeys.lowest)
      .default(PriorityKeys.default)
      .describe("Temporal priority key of the campaign's tasks: 1 runs first, 5 last; stages on the plan's critical path run one key higher (bounded at 1)"),
    fairness_key: z
      .string()
      .min(1)
      .refine((k) => utf8Bytes(k) <= FairnessKeyBytes, `must be at most ${FairnessKeyBytes} bytes`)
      .optional()
      .describe('campaigns with the same key share one fair share of a queue; default: the campaign id (each campaign its own share); a team name shares by team'),
    fairness_weight: z
      .number()
      .min(0.001)
      .max(1000)
      .default(1)
      .describe("this key's share of dispatch relative to other keys at the same priority (3 against 1: three tasks for every one); Temporal clamps to 0.001–1000"),
  })
  .describe('priority and fair share of the campaign on queues shared with other campaigns (needs a server with fairness on: see hala setup)');
export type Scheduling = z.infer<typeof Scheduling>;

/** A campaign id as a fairness key: cut to Temporal's limit, whole characters only. */
function asFairnessKey(id: string): string {
  let key = '';
  for (const ch of id) {
    if (utf8Bytes(key + ch) > FairnessKeyBytes) break;
    key += ch;
  }
  return key;
}

/** The Priority of every task of a campaign: the workflow, its children and its activities. */
export function campaignPriority(s: Scheduling, campaignId: string): Required<Priority> {
  return { priorityKey: s.priority, fairnessKey: s.fairness_key ?? asFairnessKey(campaignId), fairnessWeight: s.fairness_weight };
}

/** A stage's Priority: one key higher on the critical path, so its GPU calls go before the campaign's other backlog. */
export function stagePriority(campaign: Required<Priority>, onCriticalPath: boolean): Required<Priority> {
  return onCriticalPath ? { ...campaign, priorityKey: Math.max(PriorityKeys.highest, campaign.priorityKey - 1) } : campaign;
}
