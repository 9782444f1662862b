// A source must be what its recipe field promises before any GPU queue is woken: a model is a
// directory with config.json and weights, a dataset a parquet split, a file one file (a fastText
// language-id model). Checked when its stage opens.
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { HalaErrorType } from '../contracts/errors';
import type { SourceCheck } from '../contracts/campaign';
import { type ArtifactStore, joinUri, resolveSource } from './store';
import { expandLocalGlob, globRegExp, isGlob } from './store/hub-source';
import { parseHubId } from './hub-id';
import type { HubLookup } from './hub-revision-lookup';
import { modelFilesProblem } from './model-files';

/** The source is not what its field says it is: the recipe must change. */
export class SourceMisshapen extends Error {
  readonly halaType: HalaErrorType = 'BadInput';
  override readonly name = 'SourceMisshapen';
}

const WEIGHTS = /\.(safetensors|bin|pt)$|\.safetensors\.index\.json$/;

/** Where sources are read from when their shape is checked. */
export interface ShapeCheckDeps {
  store: ArtifactStore;
  /** The offline hub mirror, if one is active; without it hf:// ids are checked by the hub's file list. */
  mirror: string | undefined;
  hub: HubLookup;
}

/**
 * Throws SourceMisshapen naming the field, the URI and the fix. hf:// ids read from the hub itself
 * are checked against the file list of the commit the stage resolved (`revision`), nothing
 * downloaded; s3:// models are checked for their config.json without downloading the weights.
 */
export async function checkSourceShape(check: SourceCheck, deps: ShapeCheckDeps, revision?: string): Promise<void> {
  const { uri, field, kind } = check;
  const { store, mirror } = deps;
  const problem = (what: string) => new SourceMisshapen(`${field} = ${uri} ${what}`);
  if (uri.startsWith('hf://') && !mirror) {
    const { commit, files } = await deps.hub(uri, revision);
    if (files) checkHubListing(check, files, commit);
    return;
  }
  if (uri.startsWith('s3://')) {
    if (kind === 'file' && !(await store.exists(uri))) throw problem('does not exist in the store; stage the file there first');
    if (kind === 'model' && !(await store.exists(joinUri(uri, 'config.json')))) {
      throw problem('has no config.json: a model is a directory with config.json and its weights; point the field at one');
    }
    return;
  }
  const local = await resolveSource(uri, store, mirror);
  if (kind === 'file') {
    if ((await stat(local)).isDirectory()) throw problem(`is a directory: ${field} is one file; point it at the file inside`);
    return;
  }
  if (kind === 'model') {
    const info = await stat(local);
    const what = modelDirectoryProblem(field, info.isDirectory() ? await readdir(local) : undefined, 'the download is incomplete; fetch the model again');
    if (what) throw problem(what);
    // Local files can be read cheaply: their headers, against their sizes (model-files.ts).
    const broken = await modelFilesProblem(local);
    if (broken) throw new SourceMisshapen(`${field} = ${uri}: ${broken}`);
    return;
  }
  const files = isGlob(local) ? await expandLocalGlob(local) : [local];
  for (const file of files) {
    const info = await stat(file);
    const parquet = info.isDirectory() ? (await readdir(file)).filter((f) => f.endsWith('.parquet')).map((f) => path.join(file, f)) : [file];
    if (parquet.length === 0) throw problem(`is a directory without parquet files: a dataset split is parquet; point ${field} at the split's files`);
    for (const p of parquet) {
      if (!(await isParquet(p))) throw problem(`${p === local ? 'is' : `holds ${path.basename(p)}, which is`} not a parquet file: a dataset split is parquet; point ${field} at one or convert it`);
    }
  }
}

/**
 * What keeps a model path from being a model directory (config.json and weights), the same rule for a
 * mirror and the hub: `files` directly inside it, or undefined when the path is a file.
 */
function modelDirectoryProblem(field: string, files: string[] | undefined, noWeightsFix: string): string | undefined {
  if (!files) return `is a file, not a model directory: a model is a directory with config.json and its weights (*.safetensors); point ${field} at one`;
  if (!files.includes('config.json')) return `has no config.json: it is not a model directory; point ${field} at one (config.json and *.safetensors)`;
  if (!files.some((f) => WEIGHTS.test(f))) return `has config.json but no weights (*.safetensors, *.bin): ${noWeightsFix}`;
  return undefined;
}

/** Parquet files begin with the magic bytes PAR1. */
async function isParquet(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.toString('latin1') === 'PAR1';
  } finally {
    await handle.close();
  }
}

/**
 * The same rules as for a mirror, on the files the hub lists at `commit`: a model path holds
 * config.json and weights; a dataset path (a file, a glob over the last segment, or a directory)
 * names parquet files, judged by their extension since nothing is downloaded to read their bytes.
 */
function checkHubListing({ uri, field, kind }: SourceCheck, files: string[], commit: string): void {
  const problem = (what: string) => new SourceMisshapen(`${field} = ${uri} ${what} (the hub's files at commit ${commit.slice(0, 12)})`);
  const inRepo = parseHubId(uri).path.replace(/\/+$/, '');
  const under = inRepo ? `${inRepo}/` : '';
  const directlyUnder = files.filter((f) => f.startsWith(under) && !f.slice(under.length).includes('/')).map((f) => f.slice(under.length));
  if (kind === 'file') {
    if (!files.includes(inRepo)) throw problem(`names no file of the repo; fix the path of the file inside the repo`);
    return;
  }
  if (kind === 'model') {
    const what = modelDirectoryProblem(field, files.includes(inRepo) ? undefined : directlyUnder, 'the repo holds no model at this revision; pin one that does');
    if (what) throw problem(what);
    return;
  }
  if (isGlob(inRepo)) {
    const dir = inRepo.includes('/') ? inRepo.slice(0, inRepo.lastIndexOf('/') + 1) : '';
    const test = globRegExp(inRepo.slice(dir.length));
    const matched = files.filter((f) => f.startsWith(dir) && test.test(f.slice(dir.length)));
    if (matched.length === 0) throw problem(`matches no file of the repo; check the pattern against the dataset's files`);
    const other = matched.find((f) => !f.endsWith('.parquet'));
    if (other) throw problem(`matches ${other}, which is not a parquet file: a dataset split is parquet; narrow the pattern to the split's .parquet files`);
    return;
  }
  if (files.includes(inRepo)) {
    if (!inRepo.endsWith('.parquet')) throw problem(`is not a parquet file: a dataset split is parquet; point ${field} at the split's .parquet files (the hub's parquet conversion lives under refs/convert/parquet)`);
    return;
  }
  if (directlyUnder.length === 0) throw problem(`names no file or directory of the repo; fix the path inside the dataset`);
  if (!directlyUnder.some((f) => f.endsWith('.parquet'))) throw problem(`is a directory without parquet files: a dataset split is parquet; point ${field} at the split's files`);
}
