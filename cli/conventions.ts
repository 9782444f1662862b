// What every `hala` verb shares: an example under its --help, the documented exit codes, usage
// errors that exit 2, and colour only on a terminal. One place, applied after all verbs exist, so
// a verb added later cannot forget its example (test/unit/cli-conventions.test.ts checks each).
import type { Command, CommanderError } from 'commander';

/** Exit codes of every verb; `hala --help` prints them and the README repeats them. */
export const ExitCode = {
  /** It did what was asked (a started campaign, a steer accepted, a report written). */
  ok: 0,
  /** The work itself failed: a campaign or setup failed, the server could not be reached, an unexpected error. */
  failed: 1,
  /** Refused before doing anything: bad usage, an invalid recipe, a campaign that cannot be steered, an approval refused, a server refusal of cli/server-refusals.ts. */
  refused: 2,
} as const;

const exitCodeHelp = `
Exit codes:
  0  done
  1  the work failed (a campaign or setup failed, Temporal unreachable, an unexpected error)
  2  refused before doing anything (bad usage, invalid recipe, nothing to steer, approval refused,
     campaign id already running, no such campaign, no such namespace: each with its fix)

Connection: --profile/--namespace/--address, else TEMPORAL_* variables, else TEMPORAL_CONFIG_FILE's profile.
Read commands take --json. Colour only on a terminal, never with NO_COLOR set.`;

/** The exit codes in one line, under each verb's help (the program's help explains them). */
export const verbExitCodes = 'Exit codes: 0 done, 1 the work failed, 2 refused (npx hala --help says more)';

/** One example per verb, run from the clone's root; shown under `hala <verb> --help`. */
export const VerbExamples: Record<string, string> = {
  up: 'npx hala up --then-run recipes/tiny.yaml',
  setup: 'npx hala --profile prod setup',
  plan: 'npx hala plan recipes/hala-paper.yaml',
  run: 'npx hala run recipes/tiny.yaml --watch --rerun sft-hala-350m',
  status: 'npx hala status tiny-20261202-0530 --json',
  watch: "npx hala watch tiny-20261202-0530\n  npx hala watch tiny-20261202-0530 --json --interval 10 | jq -c '.stages[] | select(.live)'",
  pause: 'npx hala pause tiny-20261202-0530',
  resume: 'npx hala resume tiny-20261202-0530',
  cancel: 'npx hala cancel tiny-20261202-0530',
  steer: 'npx hala steer tiny-20261202-0530 sft-hala-350m pause\n  npx hala steer tiny-20261202-0530 sft-hala-350m unpause',
  // status first: it shows the gate's funnel and sample rows, what the approval is about.
  approve: 'npx hala status tiny-20261202-0530\n  npx hala approve tiny-20261202-0530 corpus-review --by alice --note "funnel and samples read fine"',
  ls: 'npx hala ls --limit 5 --json',
  workers: 'npx hala workers recipes/hala-paper.yaml',
  doctor: 'npx hala doctor recipes/hala-paper.yaml --timeout-s 120',
  lineage: 'npx hala lineage tiny-20261202-0530 --mermaid',
  report: 'npx hala report tiny-20261202-0530 --out tiny.html',
  'codec-server': 'HALA_CODEC_KEY_FILE=~/.hala/codec.key npx hala codec-server --port 8888',
};

/** The verbs that only read: each must offer --json, for scripts. */
export const ReadVerbs: ReadonlySet<string> = new Set(['plan', 'status', 'watch', 'ls', 'workers', 'doctor', 'lineage', 'report']);

/**
 * Adds the examples and exit codes to `program`'s help, and makes usage errors exit 2. A verb
 * without an example, or a read verb without --json, is refused at start-up: every invocation (and
 * so every test that runs one) fails until it has them.
 */
export function applyConventions(program: Command): void {
  program.addHelpText('after', exitCodeHelp);
  for (const verb of program.commands) {
    const example = VerbExamples[verb.name()];
    if (!example) throw new Error(`hala ${verb.name()} has no example: add one to VerbExamples in cli/conventions.ts`);
    if (ReadVerbs.has(verb.name()) && !verb.options.some((o) => o.long === '--json')) {
      throw new Error(`hala ${verb.name()} reads, so it must offer --json (cli/conventions.ts ReadVerbs)`);
    }
    verb.addHelpText('after', `\nExample:\n  ${example}\n\n${verbExitCodes}`);
  }
  for (const command of [program, ...program.commands]) command.exitOverride(usageErrorsExit2);
}

function usageErrorsExit2(err: CommanderError): never {
  // --help and --version are not errors; commander has printed its message already. A missing
  // verb (`commander.help`) is a usage error, though it prints the help too.
  const asked = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
  process.exit(asked ? ExitCode.ok : ExitCode.refused);
}

/** Whether to colour what goes to `stream`: a terminal, NO_COLOR unset (https://no-color.org), TERM not dumb. */
export function useColour(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}
