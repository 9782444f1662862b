// The campaign's page in the Temporal UI (its current details) says several things at once: the gates
// that wait, the budget. Each part is set on its own; the page shows them all, and nothing when none has text.
import { setCurrentDetails } from '@temporalio/workflow';

export class CurrentDetails {
  private readonly parts = new Map<string, string>();

  set(part: 'gates' | 'budget', text: string): void {
    this.parts.set(part, text);
    setCurrentDetails([...this.parts.values()].filter((t) => t !== '').join('\n\n'));
  }
}
