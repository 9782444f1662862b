import type { z } from 'zod';

/** `stages.sft.students[1].learning_rate` */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

const shown = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v));

/** One line per problem, naming the path, the rule and the value found. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, prefix = ''): string[] {
  return issues.map((issue) => {
    const where = formatPath(prefix ? [prefix, ...issue.path] : issue.path);
    const got = valueAt(input, issue.path);
    const gotText = got === undefined ? 'missing' : `got ${shown(got)}`;
    switch (issue.code) {
      case 'too_small': {
        const op = issue.inclusive ? '>=' : '>';
        const what = issue.origin === 'array' ? `have ${op} ${issue.minimum} items` : issue.origin === 'string' ? `be at least ${issue.minimum} characters` : `be ${op} ${issue.minimum}`;
        return `${where} must ${what} (${gotText})`;
      }
      case 'too_big': {
        const op = issue.inclusive ? '<=' : '<';
        return `${where} must be ${op} ${issue.maximum} (${gotText})`;
      }
      case 'invalid_type':
        return got === undefined ? `${where} is required (expected ${issue.expected})` : `${where} must be ${issue.expected} (${gotText})`;
      case 'invalid_value':
        return `${where} must be one of ${issue.values.map(shown).join(', ')} (${gotText})`;
      case 'unrecognized_keys':
        return issue.keys.map((k) => `${formatPath([...(prefix ? [prefix] : []), ...issue.path, k])} is not a known setting (check its spelling)`).join('\n');
      case 'invalid_format':
        return `${where} ${issue.message} (${gotText})`;
      default:
        return `${where} ${issue.message.replace(/^Invalid input: /, '')} (${gotText})`;
    }
  }).flatMap((line) => line.split('\n'));
}
