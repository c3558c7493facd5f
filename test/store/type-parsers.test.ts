import test from 'ava';
import { useDatabase, type TestDatabase } from '../helpers/database.ts';

const database = useDatabase(test, 'type-parsers');
let db: TestDatabase;
test.before(async () => {
  db = await database();
});

/** Arrays whose PostgreSQL text form needs each of the parser's paths: empty, unquoted, quoted, with null elements. */
const ARRAYS: Array<Array<string | null>> = [
  [],
  ['https://security-tracker.debian.org/tracker/CVE-2024-1234'],
  ['CVE-2024-1', 'GHSA-abcd-efgh-ijkl', 'PYSEC-2024-9'],
  ['a', null, 'b'],
  [null],
  ['NULL', 'null'],
  [''],
  ['with space', 'comma,inside', 'quote"inside', 'back\\slash', '{brace}', 'trailing '],
  ['ünïcödé', 'emoji 🙂', 'tab\there'],
];

test('text[] values read back exactly as written, whichever path parses them', async (t) => {
  for (const value of ARRAYS) {
    const { rows } = await db.knex.raw<{ rows: Array<{ v: Array<string | null>; text: string }> }>('select ?::text[] as v, ?::text[]::text as text', [value, value] as unknown as string[]);
    t.deepEqual(rows[0]!.v, value, `read back from ${rows[0]!.text}`);
  }
});

test('a text[] column of a table, null and empty alike, and a two-dimensional array', async (t) => {
  await db.knex.raw('create table arrays (id int primary key, v text[])');
  await db.knex('arrays').insert([
    { id: 1, v: null },
    { id: 2, v: [] },
    { id: 3, v: ['x', 'y'] },
  ]);
  t.deepEqual(await db.knex('arrays').orderBy('id').pluck('v'), [null, [], ['x', 'y']]);
  const { rows } = await db.knex.raw<{ rows: Array<{ v: unknown }> }>(`select '{{a,b},{c,d}}'::text[] as v`);
  t.deepEqual(rows[0]!.v, [['a', 'b'], ['c', 'd']]);
});
