import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

// Digests shared with gpu-runners/hala_runners/store.py. A file's sha256 is the digest of its bytes;
// a directory's is the digest of its manifest: `<file sha256>  <posix relpath>\n` per file, sorted by
// path the way Python sorts pathlib paths (segment by segment, by code point), the manifest excluded.

export const MANIFEST_NAME = '_hala_manifest.txt';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function fileSha256(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Code-point order, as Python compares str (JS `<` compares UTF-16 units, which differs past U+FFFF). */
function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const right = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/** Python's PurePosixPath ordering: compare the lists of segments, so `a/b` sorts before `a-c`. */
export function comparePosixPaths(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = compareCodePoints(left[i] ?? '', right[i] ?? '');
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/**
 * Every file below `dir` as posix relative paths, walked like Python's `rglob('*')` + `is_file()`:
 * symlinks to files count, symlinked directories are not descended into.
 */
export async function listFilesRecursive(dir: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(relative: string): Promise<void> {
    for (const entry of await readdir(path.join(dir, relative), { withFileTypes: true })) {
      const rel = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) {
        if ((await stat(path.join(dir, rel)).catch(() => undefined))?.isFile()) found.push(rel);
      } else if (entry.isDirectory()) await walk(rel);
      else if (entry.isFile()) found.push(rel);
    }
  }
  await walk('');
  return found.sort(comparePosixPaths);
}

export interface DirectoryManifest {
  text: string;
  sha256: string;
  files: number;
  bytes: number;
}

export async function directoryManifest(dir: string): Promise<DirectoryManifest> {
  const files = (await listFilesRecursive(dir)).filter((rel) => path.posix.basename(rel) !== MANIFEST_NAME);
  let text = '';
  let bytes = 0;
  for (const rel of files) {
    const absolute = path.join(dir, rel);
    text += `${await fileSha256(absolute)}  ${rel}\n`;
    bytes += (await stat(absolute)).size;
  }
  return { text, sha256: sha256Hex(text), files: files.length, bytes };
}
