/** The workflow id of a campaign's stage: `<campaign>/<stage>`. The campaign starts it; the CLI steers it and the UI links it. */
export function stageWorkflowId(campaignId: string, stage: string): string {
  return `${campaignId}/${stage}`;
}

/**
 * The workflow id of a stage's translation fan-out: `<stage workflow>/translate`, or
 * `<stage workflow>/translate-<part>` when the stage runs one per instruction set. The campaign
 * forwards pause to these ids, so they are made here only.
 */
export function fanOutWorkflowId(stageWorkflowId: string, part?: string): string {
  return part === undefined ? `${stageWorkflowId}/translate` : `${stageWorkflowId}/translate-${part}`;
}
