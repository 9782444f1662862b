// Every Python lock of the repository installs each file from one wheel only. Two distributions that
// ship the same paths both install "successfully", and which copy survives depends on install order
// (uv installs in parallel): a lock must never pin such a pair.
// Run: npx vitest run test/unit/lock-overlaps.test.ts
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

/** The release numbers of a version: "12.6.2.post1" -> [12, 6, 2]. */
const release = (v: string) => (/^\d+(\.\d+)*/.exec(v)?.[0] ?? '0').split('.').map(Number);
const below = (v: string, bound: string) => {
  const [a, b] = [release(v), release(bound)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
};

type Overlap = { a: string; b: string; why: string; clash?: (va: string, vb: string) => boolean };
const opencv = ['opencv-python', 'opencv-python-headless', 'opencv-contrib-python', 'opencv-contrib-python-headless'];

/** Known pairs that install the same files, and why. `clash` narrows a pair to the versions that do. */
const OVERLAPS: Overlap[] = [
  {
    a: 'cuda-python', b: 'cuda-bindings',
    // Checked on the wheels: cuda-python 12.6.2.post1 and cuda-bindings 13.5.0 share 31 files under
    // cuda/bindings/ (__init__.py, cydriver*.so, ...); cuda-python 12.8.0 and 13.4.4 hold only dist-info.
    why: 'cuda-python before 12.8 is one wheel that ships cuda/bindings/ itself; from 12.8 it is a metapackage '
      + 'requiring cuda-bindings of its own version, so a different major is a pair its metadata forbids',
    clash: (python, bindings) => below(python, '12.8') || release(python)[0] !== release(bindings)[0],
  },
  // opencv-python's README: four packages, all install cv2/, "select only one of them".
  ...opencv.flatMap((a, i) => opencv.slice(i + 1).map((b) => ({ a, b, why: 'both install the cv2 package' }))),
  { a: 'pynvml', b: 'nvidia-ml-py', why: 'pynvml before 12 ships its own pynvml.py, the module nvidia-ml-py installs', clash: (v) => below(v, '12') },
  { a: 'onnxruntime', b: 'onnxruntime-gpu', why: 'both install the onnxruntime package' },
  { a: 'pyjwt', b: 'jwt', why: 'both install the top-level jwt package' },
  { a: 'pycrypto', b: 'pycryptodome', why: 'both install the Crypto package' },
];

/** Pins of a lock (name lowercased, PEP 503: runs of -_. as one -). */
const lockPins = (text: string) =>
  new Map([...text.matchAll(/^([A-Za-z0-9._-]+)==(\S+)/gm)].map((m) => [m[1]!.toLowerCase().replace(/[-_.]+/g, '-'), m[2]!]));

function overlapsIn(pins: Map<string, string>): string[] {
  return OVERLAPS.filter(({ a, b, clash }) => pins.has(a) && pins.has(b) && (clash ?? (() => true))(pins.get(a)!, pins.get(b)!))
    .map(({ a, b, why }) => `${a}==${pins.get(a)} and ${b}==${pins.get(b)}: ${why}`);
}

const locks = [
  ...readdirSync(path.join(root, 'gpu-runners')).filter((f) => f.endsWith('.lock')).map((f) => `gpu-runners/${f}`),
  ...readdirSync(path.join(root, 'images')).map((d) => `images/${d}/requirements.lock`).filter((f) => existsSync(path.join(root, f))),
  ...readdirSync(path.join(root, 'scripts')).filter((f) => f.endsWith('.lock')).map((f) => `scripts/${f}`),
];

describe('Python locks', () => {
  it('are all found: the runners, lighteval, every image, the validators and the benchmark peers', () => {
    expect(locks.length).toBeGreaterThanOrEqual(8);
    expect(locks).toEqual(expect.arrayContaining(['gpu-runners/requirements.lock', 'images/infer/requirements.lock', 'scripts/tools.lock']));
  });

  it.each(locks)('%s pins no two distributions that install the same files', (lock) => {
    expect(overlapsIn(lockPins(readFileSync(path.join(root, lock), 'utf8')))).toEqual([]);
  });

  it('the check finds the pair issue 22 found, and passes a matching metapackage', () => {
    expect(overlapsIn(lockPins('cuda-bindings==13.5.0\ncuda-python==12.6.2.post1\n'))).toHaveLength(1);
    expect(overlapsIn(lockPins('cuda-bindings==12.9.4\ncuda-python==13.4.4\n'))).toHaveLength(1);
    expect(overlapsIn(lockPins('cuda-bindings==13.4.4\ncuda-python==13.4.4\n'))).toEqual([]);
    expect(overlapsIn(lockPins('opencv-python==4.10.0.84\nopencv_python_headless==4.10.0.84\n'))).toHaveLength(1);
    expect(overlapsIn(lockPins('nvidia-ml-py==13.615.71\npynvml==12.0.0\n'))).toEqual([]);
  });
});
