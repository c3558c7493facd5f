import pg from 'pg';

type TypeId = Parameters<typeof pg.types.getTypeParser>[0];
type TypeFormat = NonNullable<Parameters<typeof pg.types.getTypeParser>[1]>;

/** `text[]`: pg-types has no name for it. */
const TEXT_ARRAY_OID = 1009;
const parseTextArrayDefault = pg.types.getTypeParser(TEXT_ARRAY_OID as TypeId, 'text') as (value: string) => string[];
/** A one-dimensional array literal none of whose elements PostgreSQL quoted. */
const UNQUOTED_ELEMENTS = /^\{[^"\\{}]*\}$/;

/**
 * The driver's type parsers, except for `text[]` (aliases, links, release keys: a report reads
 * thousands), whose common forms are read without the character-by-character array parser,
 * several times faster: `{}` as `[]`, and an array none of whose elements is quoted (PostgreSQL
 * quotes every element holding a quote, backslash, brace, comma or space, an empty one and the
 * string `NULL`) split on its commas, `NULL` being a null element. Anything else goes to the
 * driver's parser.
 */
export const TYPE_PARSERS = {
  getTypeParser(oid: number, format: string): unknown {
    if (oid === TEXT_ARRAY_OID && format !== 'binary') return parseTextArray;
    return pg.types.getTypeParser(oid as TypeId, format as TypeFormat);
  },
};

function parseTextArray(value: string): Array<string | null> {
  if (value === '{}') return [];
  if (!UNQUOTED_ELEMENTS.test(value)) return parseTextArrayDefault(value);
  const elements: Array<string | null> = value.slice(1, -1).split(',');
  for (let i = 0; i < elements.length; i++) if (elements[i] === 'NULL') elements[i] = null;
  return elements;
}
