// Test helper: brings up the local stack in its own process, prints the pids of the dev server's
// workers as one JSON line, and waits to be killed (test/e2e/orphans.test.ts kills it with -9).
import { startLocalStack } from '../../workers/local-stack';

async function main() {
  const [stateDir, port, uiPort] = process.argv.slice(2);
  const stack = await startLocalStack({ stateDir, port: Number(port), uiPort: Number(uiPort), ephemeral: true });
  const pids = Object.fromEntries(Object.entries(stack.workers).map(([role, w]) => [role, w.current().pid]));
  console.log(JSON.stringify({ address: stack.address, workers: pids }));
  setInterval(() => undefined, 1 << 30);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
