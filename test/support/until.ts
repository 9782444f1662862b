// Polling for something a workflow test waits on (a stage running, a gate waiting), with a deadline
// that names what never came.
export async function until(what: string, test: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 200): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await test()); await new Promise((r) => setTimeout(r, everyMs))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}
