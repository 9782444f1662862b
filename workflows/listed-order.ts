// Students' stages that start together reach their queue in the order the recipe lists the students.
import { patched, sleep } from '@temporalio/workflow';
import type { StageDeclaration } from './stages/declaration';

/** How long after the student listed before it each student's stage starts. */
export const LISTED_ORDER_STEP_MS = 1000;

/**
 * A queue hands its slots out first come, and the students' SFT stages open (stage key, cache
 * lookup, claim) at the same moment: which student trained first was chance. On the local stack's
 * two cores the 1.2b or the 700m drew the last slot in each of four tiny campaigns, and the last
 * SFT trained alone at the end, up to ~50 s longer (README "Where the first run's time goes").
 * Opening takes well under a second, so starting student i i seconds after the first puts them on
 * the queue in the recipe's order (largest first in recipes/tiny.yaml). A campaign started before
 * this change replays without it.
 */
export async function waitForListedTurn(declaration: Pick<StageDeclaration<unknown, unknown, unknown>, 'listedOrder'>, i: number): Promise<void> {
  if (!declaration.listedOrder || i === 0 || !patched('students-in-listed-order')) return;
  await sleep(i * LISTED_ORDER_STEP_MS);
}
