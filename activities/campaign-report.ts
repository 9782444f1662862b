// The campaign summary, written next to its artifacts when the campaign ends (completed or failed):
// what `hala lineage <campaign>` starts from once Temporal's history retention has passed.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ArtifactRef } from '../contracts/artifact';
import type { WriteCampaignReportInput } from '../contracts/cpu-activity-fns';
import { type ArtifactStore, storeLayout } from './store';

export function createCampaignReportActivities({ store }: { store: ArtifactStore }) {
  return {
    async writeCampaignReport(input: WriteCampaignReportInput): Promise<ArtifactRef> {
      const work = await mkdtemp(path.join(tmpdir(), 'hala-report-'));
      try {
        const file = path.join(work, 'summary.json');
        await writeFile(file, JSON.stringify(input.report, null, 2));
        return await store.putFile(file, storeLayout.campaignSummary(input.store_root, input.campaign_id), 'report');
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}
