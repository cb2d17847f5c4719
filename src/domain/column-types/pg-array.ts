// PostgreSQL's array text (`{1,NULL,"a \"b\""}`, nested `{{1,2},{3,4}}`) split into element texts,
// as ruby-pg's array decoder splits it for ActiveRecord: a leading dimension decoration
// (`[0:1]=`) is skipped, an unquoted `NULL` is nil, quoted elements are unescaped.
import { EncodingError } from '../rails-json';

export type PgArray = ReadonlyArray<string | null | PgArray>;

export function parsePgArray(text: string, delimiter: string, column: string): PgArray {
  let pos = 0;
  const fail = (): never => {
    throw new EncodingError(`unexpected PostgreSQL array text ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)}`, column);
  };
  if (text[0] === '[') {
    const eq = text.indexOf('=');
    if (eq === -1) fail();
    pos = eq + 1;
  }
  const parseLevel = (): PgArray => {
    if (text[pos] !== '{') fail();
    pos += 1;
    const items: Array<string | null | PgArray> = [];
    if (text[pos] === '}') {
      pos += 1;
      return items;
    }
    for (;;) {
      const c = text[pos];
      if (c === '{') items.push(parseLevel());
      else if (c === '"') {
        let out = '';
        pos += 1;
        for (;;) {
          const ch = text[pos];
          if (ch === undefined) fail();
          if (ch === '"') break;
          if (ch === '\\') pos += 1;
          out += text[pos] ?? '';
          pos += 1;
        }
        pos += 1;
        items.push(out);
      } else {
        let end = pos;
        while (end < text.length && text[end] !== delimiter && text[end] !== '}') end += 1;
        const raw = text.slice(pos, end);
        pos = end;
        items.push(raw === 'NULL' ? null : raw);
      }
      const next = text[pos];
      pos += 1;
      if (next === '}') return items;
      if (next !== delimiter) fail();
    }
  };
  const result = parseLevel();
  if (pos !== text.length) fail();
  return result;
}
