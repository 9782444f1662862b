// Usage: npx tsx contracts/export-json-schema.ts [--check]
// Writes contracts/json-schema/*.json from the zod source, the Python runners' only contract.
// --check exits 1 when a checked-in file differs (drift), without writing.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { renderJsonSchemas } from './json-schema';

const dir = join(__dirname, 'json-schema');
const check = process.argv.includes('--check');
let drift = 0;
mkdirSync(dir, { recursive: true });
for (const [file, text] of Object.entries(renderJsonSchemas())) {
  const path = join(dir, file);
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (current === text) continue;
  if (check) {
    console.error(`contracts/json-schema/${file} is out of date: run npm run contracts:export`);
    drift++;
  } else {
    writeFileSync(path, text);
    console.log(`wrote contracts/json-schema/${file}`);
  }
}
process.exit(drift ? 1 : 0);
