// Reads and validates a recipe file. Every problem is reported at once, one line each, before
// anything starts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { describeIssues } from '../contracts/issues';
import { Recipe } from '../contracts/recipe';
import { canonicalJson } from '../activities/stage-key';

export type RecipeLoad =
  | { ok: true; recipe: Recipe; sha256: string }
  | { ok: false; problems: string[] };

/**
 * A recipe holds knobs and URIs, and every stage gets its slice of it in its workflow input: a recipe
 * past this size means data pasted inline, which would bloat every history that carries it (Temporal
 * refuses payloads over 2 MB and terminates histories over 50 MB).
 */
export const MAX_RECIPE_BYTES = 256 * 1024;

export function parseRecipeText(text: string, file: string): RecipeLoad {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_RECIPE_BYTES) {
    return {
      ok: false,
      problems: [`${file}: the recipe is ${Math.ceil(bytes / 1024)} KiB, over the ${MAX_RECIPE_BYTES / 1024} KiB limit: recipes hold knobs and URIs; put long texts and data in files (hf://, file://, s3://) and name them instead`],
    };
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`) };
  }
  const raw: unknown = doc.toJS();
  const parsed = Recipe.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: describeIssues(parsed.error.issues, raw) };
  const sha256 = createHash('sha256').update(canonicalJson(parsed.data)).digest('hex');
  return { ok: true, recipe: parsed.data, sha256 };
}

export function loadRecipe(file: string): RecipeLoad {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { ok: false, problems: [`${file}: recipe file not found (see recipes/ for examples)`] };
  }
  return parseRecipeText(text, file);
}
