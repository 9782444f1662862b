// `hala report <campaign-id>`: gather the campaign's figures, then write them as one HTML file (or
// print them as JSON). Exit codes (cli/conventions.ts): written, or refused when there is no such campaign.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { openStore } from '../lineage-source';
import { ExitCode } from '../conventions';
import { CampaignNotFound, campaignView } from './campaign-source';
import { gatherReport } from './gather';
import { renderReportHtml } from './render-html';

export interface ReportFlags {
  out?: string;
  store: string;
  json?: boolean;
}

/** Runs the verb; returns the process exit code. */
export async function reportCommand(id: string, flags: ReportFlags, connect: () => Promise<Client>): Promise<number> {
  const store = openStore(flags.store);
  let data;
  try {
    data = await gatherReport(await campaignView(id, store, connect), store);
  } catch (err) {
    if (!(err instanceof CampaignNotFound)) throw err;
    console.error(`hala report: ${err.message}`);
    return ExitCode.refused;
  }
  if (flags.json) {
    console.log(JSON.stringify(data, null, 2));
    return ExitCode.ok;
  }
  const out = path.resolve(flags.out ?? `hala-report-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.html`);
  await writeFile(out, renderReportHtml(data));
  console.log(`hala: report of ${id} (${data.state}, ${data.stages.length} stages, ${data.missing.length} piece${data.missing.length === 1 ? '' : 's'} not shown) written to ${out}`);
  return ExitCode.ok;
}
