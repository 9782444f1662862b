// The recipe's checks as `hala status`, `hala watch` and `hala report` show them: one line each, its
// figures and what it did (passed, failed the stage, holds for an approval, chose a candidate).
import type { CampaignProgress } from '../contracts/campaign';
import { checkLine } from '../contracts/checks';

export { checkLine, checkOutcome } from '../contracts/checks';

/** The checks section of `hala status`; empty when the recipe declares none or none was judged yet. */
export function renderChecks(progress: CampaignProgress): string {
  return (progress.checks ?? []).map((c) => checkLine(c, progress.campaign_id)).join('\n');
}
