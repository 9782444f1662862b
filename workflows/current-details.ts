// The campaign's page in the Temporal UI (its current details) says several things at once: the gates
// that wait, the budget, the checks that missed or chose. Each part is set on its own; the page shows them all, and nothing when none has text.
import { setCurrentDetails } from '@temporalio/workflow';

export class CurrentDetails {
  private readonly parts = new Map<string, string>();

  set(part: 'gates' | 'budget' | 'checks', text: string): void {
    this.parts.set(part, text);
    setCurrentDetails([...this.parts.values()].filter((t) => t !== '').join('\n\n'));
  }
}
