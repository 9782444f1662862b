// Usage: npx tsx bench/model-files.ts [repeats]   (default 20)
// What the stage-open check of model files (activities/model-files.ts) costs on the tiny world's
// models: headers and config.json only, no tensor read. Prints; asserts nothing.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { modelFilesProblem } from '../activities/model-files';

const hub = path.join(__dirname, '../fixtures/tiny-world/hub/hala-tiny');
const models = ['command-a-translate', 'lfm2-350m', 'lfm2-700m', 'lfm2-1.2b'];
const repeats = Number(process.argv[2] ?? 20);

async function main() {
  for (const name of models) {
    const dir = path.join(hub, name);
    const bytes = (await stat(path.join(dir, 'model.safetensors'))).size;
    await modelFilesProblem(dir); // the first read warms the page cache, as a stage's digest has just done
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < repeats; i++) {
      const problem = await modelFilesProblem(dir);
      if (problem) throw new Error(problem);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / repeats;
    console.log(`${name.padEnd(20)} model.safetensors ${(bytes / 1024).toFixed(0).padStart(6)} KiB  check ${ms.toFixed(2)} ms`);
  }
}

void main();
