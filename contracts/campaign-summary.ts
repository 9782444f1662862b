import { z } from 'zod';
import { CampaignProgress } from './campaign';

/**
 * `campaigns/<id>/summary.json`, written when a campaign ends (completed or failed): what `hala lineage`
 * and `hala report` read once Temporal's history retention has passed.
 */
export const CampaignSummary = z.object({
  campaign_id: z.string(),
  /** The recipe's name. */
  recipe: z.string(),
  recipe_sha256: z.string(),
  progress: CampaignProgress,
  /**
   * The parsed recipe the campaign ran: its resource classes price each stage's GPU-hours, as the
   * campaign placed them. Unknown here, parsed by its reader: summaries before it lack it, and a
   * recipe of an older version may not parse today (its stages then show no cost, saying why).
   */
  recipe_spec: z.unknown().optional(),
});
export type CampaignSummary = z.infer<typeof CampaignSummary>;
