import pg from 'pg';

type TypeId = Parameters<typeof pg.types.getTypeParser>[0];
type TypeFormat = NonNullable<Parameters<typeof pg.types.getTypeParser>[1]>;

/** `text[]`: pg-types has no name for it. */
const TEXT_ARRAY_OID = 1009;
const parseTextArrayDefault = pg.types.getTypeParser(TEXT_ARRAY_OID as TypeId, 'text') as (value: string) => string[];

/**
 * The driver's type parsers, except that an empty `text[]` (`{}`, the default of every list column:
 * aliases, links, release keys) is read as `[]` without starting the array parser, which costs
 * several hundred bytes per value; a report reads thousands of them.
 */
export const TYPE_PARSERS = {
  getTypeParser(oid: number, format: string): unknown {
    if (oid === TEXT_ARRAY_OID && format !== 'binary') return parseTextArray;
    return pg.types.getTypeParser(oid as TypeId, format as TypeFormat);
  },
};

function parseTextArray(value: string): string[] {
  return value === '{}' ? [] : parseTextArrayDefault(value);
}
