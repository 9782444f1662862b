// `hala workers`' view of Worker Deployments: which builds poll each queue, and which running
// campaigns are pinned to which build, so an operator sees when an old build has drained (no
// campaign left on it) and its workers can go (deploy/README.md, "Upgrading").
import type { Client } from '@temporalio/client';
import type { QueueWorkers } from '../platform/task-queue-pollers';

export interface CampaignBuild {
  campaign: string;
  /** `<deployment>:<build id>` it is pinned to; absent: unversioned. */
  build?: string;
}

/** Every running campaign with the build its workflow is pinned to (DescribeWorkflowExecution's versioning info). */
export async function runningCampaignBuilds(client: Client): Promise<CampaignBuild[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: 'WorkflowType = "campaign" AND ExecutionStatus = "Running"' })) ids.push(wf.workflowId);
  return Promise.all(
    ids.sort().map(async (campaign) => {
      const version = (await client.workflow.getHandle(campaign).describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion;
      return version?.buildId ? { campaign, build: `${version.deploymentName}:${version.buildId}` } : { campaign };
    }),
  );
}

/** The builds among a queue's pollers, with how many of each: `hala:0.4.0+1a2b3c4 ×2, unversioned ×1`. */
export function buildsOf(row: QueueWorkers): string {
  const counts = new Map<string, number>();
  for (const p of row.pollers) counts.set(p.build ?? 'unversioned', (counts.get(p.build ?? 'unversioned') ?? 0) + 1);
  return [...counts].map(([build, n]) => `${build} ×${n}`).join(', ');
}

/** Running campaigns grouped by build, one line per build. */
export function renderCampaignBuilds(campaigns: CampaignBuild[]): string {
  if (campaigns.length === 0) return 'no campaign is running: every build has drained';
  const byBuild = new Map<string, string[]>();
  for (const c of campaigns) byBuild.set(c.build ?? 'unversioned', [...(byBuild.get(c.build ?? 'unversioned') ?? []), c.campaign]);
  return ['running campaigns by build:', ...[...byBuild].map(([build, ids]) => `  ${build}  ${ids.join(', ')}`)].join('\n');
}
