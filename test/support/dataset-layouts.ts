// Small parquet files with the column names and arrow types of each real input of
// recipes/hala-paper.yaml, awkward parts included (extra columns, nulls, ShareGPT `weight`, system
// turns, several turns, two shards matched by one glob, Tulu-3 rows of non-English subsets). Where
// each layout comes from, as found on the hub (dataset cards, file lists, dataset_infos.json):
//   OPUS-100 ar-en      ar-en/{train,test}-00000-of-00001.parquet; translation: struct<ar, en>
//                       (the pair is named ar-en, the codes in alphabetical order: there is no en-ar)
//   Open-Orca           1M-GPT4-Augmented.parquet at the repo root; id, system_prompt, question,
//                       response, all strings (an older revision also carried __index_level_0__)
//   Hermes-3            JSON on main; the hub's parquet conversion (refs/convert/parquet) holds
//                       default/train/NNNN.parquet; conversations: list<struct<from, value, weight>>
//   SCP-116K            one JSONL on main, so also read from the conversion; domain, problem,
//                       matched_solution, o1_solution, qwq_solution and two boolean agreement flags
//   ReAlign-Alpaca      realign_alpaca.json on main (conversion: default/train/0000.parquet); the
//                       ReAlign format, {id, items: [{from: human, value, category}, {from: gpt, value}]},
//                       ShareGPT turns, not Alpaca's instruction / input / output
//   Dahoas pairwise     data/train-00000-of-00001-<hash>.parquet (push_to_hub of 2023); prompt, chosen, rejected
//   LaMini-instruction  data/train-0000N-of-0000M-<hash>.parquet; instruction, response, instruction_source
//   Tulu-3 SFT mixture  data/train-0000N-of-00006.parquet; id, messages: list<struct<content, role>>, source
// The content hashes in file names are made up; the naming pattern is the hub's.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { sql } from './duckdb-sql';

/** A dataset's files: path in its hub repo -> the SELECT that gives its rows, in order. */
export interface HubDataset {
  repo: string;
  files: Record<string, string>;
}

const text = (s: string | null) => (s === null ? 'NULL' : `'${s.replaceAll("'", "''")}'`);
const FENCE = '```';

/** Rows from value tuples, in the order given, cast to the dataset's exact column types. */
function rows(columns: Record<string, string>, values: string[][]): string {
  const names = Object.keys(columns);
  const tuples = values.map((v, i) => `(${i}, ${v.join(', ')})`).join(',\n');
  const casts = names.map((n) => `CAST("${n}" AS ${columns[n]}) AS "${n}"`).join(', ');
  return `SELECT ${casts} FROM (VALUES ${tuples}) v(hala_i, ${names.map((n) => `"${n}"`).join(', ')}) ORDER BY hala_i`;
}

/** A ShareGPT turn as Hermes-3 spells it: weight is null on system turns, 0 or 1 elsewhere. */
const hermesTurn = (from: string, value: string | null, weight: number | null) =>
  `{'from': ${text(from)}, 'value': ${text(value)}, 'weight': ${weight === null ? 'NULL' : `${weight}`}}`;
const HERMES = { conversations: 'STRUCT("from" VARCHAR, "value" VARCHAR, weight DOUBLE)[]' };

/** Tulu-3's message struct has its fields in name order: content, then role. */
const tuluTurn = (role: string, content: string) => `{'content': ${text(content)}, 'role': ${text(role)}}`;
const TULU = { id: 'VARCHAR', messages: 'STRUCT(content VARCHAR, role VARCHAR)[]', source: 'VARCHAR' };

export const TULU_AYA = 'ai2-adapt-dev/tulu_v3.9_aya_100k';

export const layouts = {
  opusTrain: (): HubDataset => ({
    repo: 'Helsinki-NLP/opus-100',
    files: {
      'ar-en/train-00000-of-00001.parquet': rows({ translation: 'STRUCT(ar VARCHAR, en VARCHAR)' }, [
        [`{'ar': 'صباح الخير.', 'en': 'Good morning.'}`],
        [`{'ar': 'أين المحطة؟', 'en': 'Where is the station?'}`],
        ['NULL'],
        [`{'ar': 'فارغ', 'en': NULL}`],
      ]),
    },
  }),
  opusTest: (): HubDataset => ({
    repo: 'Helsinki-NLP/opus-100',
    files: {
      'ar-en/test-00000-of-00001.parquet': rows({ translation: 'STRUCT(ar VARCHAR, en VARCHAR)' }, [
        [`{'ar': 'شكرا جزيلا.', 'en': 'Thank you very much.'}`],
        [`{'ar': 'الكتاب على الطاولة.', 'en': 'The book is on the table.'}`],
      ]),
    },
  }),
  openOrca: (): HubDataset => ({
    repo: 'Open-Orca/OpenOrca',
    files: {
      '1M-GPT4-Augmented.parquet': rows(
        { id: 'VARCHAR', system_prompt: 'VARCHAR', question: 'VARCHAR', response: 'VARCHAR', __index_level_0__: 'BIGINT' },
        [
          [text('niv.242684'), text('You are an AI assistant. Provide a detailed answer.'), text('What is the capital of Peru?'), text('Lima is the capital of Peru.'), '7'],
          [text('flan.564327'), text(''), text('Translate "thank you" into Spanish.'), text('Gracias.'), '8'],
          [text('t0.1045'), 'NULL', text('Is the sky green?'), 'NULL', '9'],
        ],
      ),
    },
  }),
  hermes3: (): HubDataset => ({
    repo: 'NousResearch/Hermes-3-Dataset',
    files: {
      'default/train/0000.parquet': rows(HERMES, [
        [`[${hermesTurn('system', 'You are Hermes, a helpful assistant.', null)}, ${hermesTurn('human', 'Name the largest planet.', 0)}, ${hermesTurn('gpt', 'Jupiter is the largest planet.', 1)}]`],
        [`[${hermesTurn('human', 'Print hello in Python.', 0)}, ${hermesTurn('gpt', `${FENCE}python\nprint("hello")\n${FENCE}`, 1)}]`],
      ]),
      'default/train/0001.parquet': rows(HERMES, [
        [`[${hermesTurn('human', 'Hi there.', 0)}, ${hermesTurn('gpt', 'Hello! How can I help?', 1)}, ${hermesTurn('human', 'What is 2 + 2?', 0)}, ${hermesTurn('gpt', '2 + 2 = 4.', 1)}]`],
        [`[${hermesTurn('system', '', null)}, ${hermesTurn('human', 'Say yes.', 0)}, ${hermesTurn('gpt', 'Yes.', 1)}]`],
        [`[${hermesTurn('human', 'Is anyone there?', 0)}, ${hermesTurn('gpt', null, 1)}]`],
        [`[${hermesTurn('system', 'You are a quiet assistant.', null)}, ${hermesTurn('human', 'Hello?', 0)}]`],
      ]),
    },
  }),
  scp116k: (): HubDataset => {
    const columns = {
      domain: 'VARCHAR', problem: 'VARCHAR', matched_solution: 'VARCHAR', o1_solution: 'VARCHAR',
      is_o1_solution_same_with_matched_solution: 'BOOLEAN', qwq_solution: 'VARCHAR', is_qwq_solution_same_with_matched_solution: 'BOOLEAN',
    };
    return {
      repo: 'EricLu/SCP-116K',
      files: {
        'default/train/0000.parquet': rows(columns, [
          [text('Physics'), text('A ball falls for 2 s from rest. How far does it fall?'), text('d = g t^2 / 2 = 19.6 m.'), text('About 19.6 m (o1).'), 'true', text('19.6 m (QwQ).'), 'true'],
        ]),
        'default/train/0001.parquet': rows(columns, [
          [text('Chemistry'), text('What is the molar mass of water?'), text('18.02 g/mol.'), 'NULL', 'NULL', text('18 g/mol (QwQ).'), 'false'],
        ]),
      },
    };
  },
  realignAlpaca: (): HubDataset => {
    const turn = (from: string, value: string, category: string | null) => `{'from': ${text(from)}, 'value': ${text(value)}, 'category': ${text(category)}}`;
    const columns = { id: 'BIGINT', items: 'STRUCT("from" VARCHAR, "value" VARCHAR, category VARCHAR)[]' };
    return {
      repo: 'GAIR/ReAlign-Alpaca',
      files: {
        'default/train/0000.parquet': rows(columns, [
          ['0', `[${turn('human', 'Give three tips for staying healthy.', 'advice_giving')}, ${turn('gpt', '1. Eat well.\n2. Exercise.\n3. Sleep enough.', null)}]`],
          ['1', `[${turn('human', 'Rewrite in passive voice: The cat ate the fish.', 'instructional_rewriting')}, ${turn('gpt', 'The fish was eaten by the cat.', null)}]`],
        ]),
      },
    };
  },
  dahoasPairwise: (): HubDataset => ({
    repo: 'Dahoas/synthetic-instruct-gptj-pairwise',
    files: {
      'data/train-00000-of-00001-1e5d57b93c448e7a.parquet': rows({ prompt: 'VARCHAR', chosen: 'VARCHAR', rejected: 'VARCHAR' }, [
        [text('How do I boil an egg?'), text('Place the egg in boiling water for about nine minutes.'), text('Eggs are laid by hens.')],
        [text('Suggest a name for a cat.'), text('How about Luna?'), text('Cats are animals.')],
      ]),
    },
  }),
  lamini: (): HubDataset => {
    const columns = { instruction: 'VARCHAR', response: 'VARCHAR', instruction_source: 'VARCHAR' };
    return {
      repo: 'MBZUAI/LaMini-instruction',
      files: {
        'data/train-00000-of-00002-3a4f0cd1e2b5a697.parquet': rows(columns, [
          [text('List two primary colours.'), text('Red and blue.'), text('generated_flan')],
          [text('What is the opposite of hot?'), text('Cold.'), text('generated_p3')],
        ]),
        'data/train-00001-of-00002-9b2d6e8f1c0a4b35.parquet': rows(columns, [
          [text('Write a word that rhymes with cat.'), text('Hat.'), text('self_instruct_with_topic')],
        ]),
      },
    };
  },
  tulu3: (): HubDataset => ({
    repo: 'allenai/tulu-3-sft-mixture',
    files: {
      'data/train-00000-of-00002.parquet': rows(TULU, [
        [text('oasst1_4711'), `[${tuluTurn('user', 'What is a haiku?')}, ${tuluTurn('assistant', 'A short Japanese poem of three lines.')}, ${tuluTurn('user', 'Write one about rain.')}, ${tuluTurn('assistant', 'Soft rain on the roof.')}]`, text('ai2-adapt-dev/oasst1_converted')],
        [text('aya_100k_17'), `[${tuluTurn('user', 'ما هي عاصمة مصر؟')}, ${tuluTurn('assistant', 'القاهرة.')}]`, text(TULU_AYA)],
        [text('personahub_code_9'), `[${tuluTurn('user', 'Reverse a list in Python.')}, ${tuluTurn('assistant', `${FENCE}python\nxs[::-1]\n${FENCE}`)}]`, text('ai2-adapt-dev/personahub_code_v2_34999')],
      ]),
      'data/train-00001-of-00002.parquet': rows(TULU, [
        [text('flan_v2_88'), `[${tuluTurn('system', 'Answer briefly.')}, ${tuluTurn('user', 'Is water wet?')}, ${tuluTurn('assistant', 'Yes.')}]`, text('ai2-adapt-dev/flan_v2_converted')],
        [text('aya_100k_18'), `[${tuluTurn('user', 'Quelle est la capitale de la France ?')}, ${tuluTurn('assistant', 'Paris.')}]`, text(TULU_AYA)],
      ]),
    },
  }),
} satisfies Record<string, () => HubDataset>;

/** Writes each file of `dataset` as parquet below `dir` at its path in the repo; returns them in path order. */
export async function writeDataset(dir: string, dataset: HubDataset): Promise<string[]> {
  const files: string[] = [];
  for (const [name, select] of Object.entries(dataset.files)) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await sql(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
    files.push(file);
  }
  return files.sort();
}
