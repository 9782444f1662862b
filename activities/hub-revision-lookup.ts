// One question to the Hugging Face hub: which commit a revision of a repo is, and which files it
// holds (`GET /api/{models|datasets}/<repo>/revision/<rev>`, the endpoint huggingface_hub's
// model_info and dataset_info call). openStage asks it to digest an hf:// source by its commit and
// to check the source's shape without downloading it.
import { parseHubId } from './hub-id';
import { HubUnavailable, SourceUnresolved } from './source-errors';

/** The slice of `fetch` the hub lookup needs, so tests can answer without a network. */
export type HubFetch = (
  url: string,
  init: { headers: Record<string, string>; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface HubDeps {
  /** Default: the global fetch. */
  fetch?: HubFetch;
  /** Default $HF_TOKEN; needed for gated or private repos. */
  hfToken?: string;
  /** Default $HF_ENDPOINT, else https://huggingface.co. */
  hubEndpoint?: string;
}

export interface HubRevision {
  commit: string;
  /** Every file of the repo at that commit (`siblings`), when the hub listed them. */
  files?: string[];
}

/** `lookup(uri)`: the revision an hf:// id names (its pin, else `main`), asked of the hub. */
export type HubLookup = (uri: string, revision?: string) => Promise<HubRevision>;

const HUB_TIMEOUT_MS = 30_000;
/** The fix for a gated or private repo: the workers read the token from the Secret hala-hf as $HF_TOKEN. */
export const GATED_FIX = "accept the model's terms on the hub and give the workers a token: Secret hala-hf / HF_TOKEN";
const COMMIT = /^[0-9a-f]{40}$/;

/**
 * A lookup that remembers what the hub said of commits (immutable), never of branches or tags
 * (`main` moves): a stage that digests a source at `main` and checks it at the commit found asks twice
 * at most, and every later stage reading that commit asks nothing.
 */
export function createHubLookup(deps: HubDeps): HubLookup {
  const commits = new Map<string, Promise<HubRevision>>();
  return (uri, revision) => {
    const { kind, repo, revision: pinned } = parseHubId(uri);
    const asked = revision ?? pinned ?? 'main';
    if (!COMMIT.test(asked)) return askHub(uri, kind, repo, asked, deps);
    const key = `${kind}/${repo}@${asked}`;
    let answer = commits.get(key);
    if (!answer) {
      answer = askHub(uri, kind, repo, asked, deps);
      commits.set(key, answer);
      void answer.catch(() => commits.delete(key)); // a failed question is asked again next time
    }
    return answer;
  };
}

async function askHub(uri: string, kind: 'models' | 'datasets', repo: string, asked: string, deps: HubDeps): Promise<HubRevision> {
  // The hub's own switch for "never reach the network" (the Python workers honour it too): tests
  // and air-gapped clusters set it, and an hf:// id without a mirror is then a set-up error.
  if (deps.fetch === undefined && process.env.HF_HUB_OFFLINE === '1') {
    throw new SourceUnresolved(`${uri}: HF_HUB_OFFLINE=1 forbids asking the hub for its revision; serve it through HALA_HUB_MIRROR`);
  }
  const endpoint = (deps.hubEndpoint ?? (process.env.HF_ENDPOINT || 'https://huggingface.co')).replace(/\/+$/, '');
  const token = deps.hfToken ?? (process.env.HF_TOKEN || undefined);
  // A branch with a slash is spelt encoded in an hf:// id (`@refs%2Fconvert%2Fparquet`, as DuckDB and
  // HfFileSystem take it): decoded first, so that it is encoded once, not twice.
  const url = `${endpoint}/api/${kind}/${repo.split('/').map(encodeURIComponent).join('/')}/revision/${encodeURIComponent(decodeRevision(asked))}`;
  const doFetch: HubFetch = deps.fetch ?? ((u, init) => fetch(u, init));
  const offline = 'or serve the hub offline through HALA_HUB_MIRROR';

  let response: Awaited<ReturnType<HubFetch>>;
  try {
    response = await doFetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(HUB_TIMEOUT_MS),
    });
  } catch (error) {
    throw new HubUnavailable(`${uri}: the hub did not answer ${url} (${(error as Error).message}); check the network, ${offline}`);
  }
  // Refusals never heal by retrying: BadInput, in the words gpu-runners/hala_runners/hub_errors.py uses.
  const what = `${kind === 'datasets' ? 'dataset' : 'model'} repo ${repo}`;
  const tokenSaid = token ? "with the workers' HF_TOKEN" : 'without a token (HF_TOKEN is not set)';
  if (response.status === 403) {
    throw new SourceUnresolved(`${uri}: the hub refused ${what} (HTTP 403: gated or private) ${tokenSaid}; ${GATED_FIX}`);
  }
  if (response.status === 401) {
    // The hub answers 401 to a caller it will not show the repo: missing, private or gated alike.
    throw new SourceUnresolved(`${uri}: the hub refused ${what} (HTTP 401: no such repo, or one this token cannot see) ${tokenSaid}; check the repo id; if the repo is gated or private, ${GATED_FIX}`);
  }
  if (response.status === 404) {
    throw new SourceUnresolved(`${uri}: the hub has no ${what} with a revision ${asked} (HTTP 404); check the repo id and the revision`);
  }
  if (response.status === 429 || response.status >= 500) {
    throw new HubUnavailable(`${uri}: the hub answered ${url} with HTTP ${response.status}; it will be retried`);
  }
  const body = response.ok ? ((await response.json().catch(() => undefined)) as { sha?: unknown; siblings?: unknown } | undefined) : undefined;
  const commit = typeof body?.sha === 'string' && COMMIT.test(body.sha) ? body.sha : undefined;
  if (!commit) {
    throw new SourceUnresolved(`${uri}: ${url} answered HTTP ${response.status} without a commit sha; check HF_ENDPOINT points at the Hugging Face hub, ${offline}`);
  }
  const files = Array.isArray(body?.siblings)
    ? body.siblings.map((s: unknown) => (s as { rfilename?: unknown }).rfilename).filter((f): f is string => typeof f === 'string')
    : undefined;
  return { commit, ...(files ? { files } : {}) };
}

/** `refs%2Fconvert%2Fparquet` -> `refs/convert/parquet`; a revision that is not valid percent-encoding is taken as written. */
function decodeRevision(revision: string): string {
  try {
    return decodeURIComponent(revision);
  } catch {
    return revision;
  }
}
