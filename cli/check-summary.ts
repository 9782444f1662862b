// The recipe's checks as `hala status`, `hala watch` and `hala report` show them: one line each, its
// figures and what it did (passed, failed the stage, holds for an approval, chose a candidate).
import type { CampaignProgress } from '../contracts/campaign';
import type { CheckReport } from '../contracts/checks';

/** What a judged check did, after its figures. */
export function checkOutcome(c: CheckReport, campaignId: string): string {
  if (c.action === 'choose') return c.chosen ? `chose ${c.chosen.candidate}: ${c.chosen.uri}` : 'chose nothing';
  if (c.passed) return 'passed';
  return c.action === 'fail' ? `failed ${c.stage}: nothing that reads it started` : `holds until \`hala approve ${campaignId} ${c.check}\``;
}

export const checkLine = (c: CheckReport, campaignId: string) => `${c.message} → ${checkOutcome(c, campaignId)}`;

/** The checks section of `hala status`; empty when the recipe declares none or none was judged yet. */
export function renderChecks(progress: CampaignProgress): string {
  return (progress.checks ?? []).map((c) => checkLine(c, progress.campaign_id)).join('\n');
}
