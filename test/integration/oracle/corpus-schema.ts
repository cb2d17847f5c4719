// The oracle's tables and rows: every column type ActiveRecord 6.1's PostgreSQL adapter maps (and
// a few it does not), NULLs and extremes, and the relationships the gem's serializers declare.

/** The columns of `samples`, one per type (name → SQL type), in the serializer's order. */
export const SAMPLE_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['i2', 'smallint'], ['i4', 'integer'], ['i8', 'bigint'], ['oid_value', 'oid'],
  ['num', 'numeric'], ['num0', 'numeric(30,0)'], ['num2', 'numeric(12,2)'], ['f4', 'real'], ['f8', 'double precision'],
  ['flag', 'boolean'], ['txt', 'text'], ['vc', 'varchar(20)'], ['ch', 'char(5)'], ['nm', 'name'], ['ci', 'citext'],
  ['u', 'uuid'], ['cash', 'money'], ['mood', 'mood'], ['positive', 'posint'], ['pair', 'pair'],
  ['d', 'date'], ['ts', 'timestamp(6)'], ['tstz', 'timestamptz'], ['tm', 'time'], ['tmtz', 'timetz'], ['iv', 'interval'],
  ['j', 'json'], ['jb', 'jsonb'], ['hs', 'hstore'],
  ['ip', 'inet'], ['net', 'cidr'], ['mac', 'macaddr'], ['mac8', 'macaddr8'],
  ['bits', 'bit(4)'], ['vbits', 'varbit'], ['x', 'xml'], ['tsv', 'tsvector'], ['tsq', 'tsquery'],
  ['pt', 'point'], ['ln', 'line'], ['ls', 'lseg'], ['bx', 'box'], ['pth', 'path'], ['poly', 'polygon'], ['circ', 'circle'],
  ['bin', 'bytea'],
  ['i4a', 'integer[]'], ['i8a2', 'bigint[][]'], ['ta', 'text[]'], ['na', 'numeric[]'], ['f8a', 'double precision[]'],
  ['tsa', 'timestamp[]'], ['da', 'date[]'], ['jba', 'jsonb[]'], ['ua', 'uuid[]'], ['ba', 'boolean[]'], ['bxa', 'box[]'],
  ['moods', 'mood[]'], ['positives', 'posint[]'], ['ia', 'inet[]'], ['hsa', 'hstore[]'],
  ['i4r', 'int4range'], ['i8r', 'int8range'], ['nr', 'numrange'], ['dr', 'daterange'], ['tsr', 'tsrange'], ['tstzr', 'tstzrange'],
];

/** Values of a `samples` row by column (SQL literals); unnamed columns are NULL. */
type SampleRow = Readonly<Record<string, string>>;

const JSON_NESTED = `'{"b": 1.0, "a": [12345678901234567890123, 1e20, 1.5e-7, -0, -0.0, 0.1, 2.5E+3], "a": {"deep": [{"x": "\\u2028<b>&amp;</b>"}, null, true]}, "s": "2024-01-01T10:00:00", "": ""}'`;

/** Row id → values. 1: typical values; 2: all NULL; 3 and 4: extremes. */
export const SAMPLE_ROWS: ReadonlyMap<number, SampleRow> = new Map<number, SampleRow>([
  [1, {
    i2: '12', i4: '-34', i8: '5678', oid_value: '4294967295', num: "'12.50'", num0: "'42'", num2: "'6.5'", f4: "'1.5'", f8: "'0.1'",
    flag: 'true', txt: "'Ada <b>&</b> \"q\" \\\\ /'", vc: "'varchar'", ch: "'ab'", nm: "'a name'", ci: "'CiTeXt'",
    u: "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", cash: "'1234.56'", mood: "'happy'", positive: '7', pair: "ROW(1, 'x y')",
    d: "'2024-01-31'", ts: "'2024-01-02 10:00:00.123456'", tstz: "'2024-01-02 10:00:00.987654+02'", tm: "'10:11:12.345678'",
    tmtz: "'10:11:12+03'", iv: "'1 year 2 months 3 days 04:05:06.5'",
    j: JSON_NESTED, jb: JSON_NESTED, hs: `'a=>1, b=>NULL, "q\\"k"=>"NULL", "<&>"=>""'`,
    ip: "'192.168.1.5/24'", net: "'10.0.0.0/8'", mac: "'08:00:2b:01:02:03'", mac8: "'08:00:2b:01:02:03:04:05'",
    bits: "B'1010'", vbits: "B'101'", x: "'<a>x &amp; y</a>'", tsv: "'a fat cat'", tsq: "'fat & rat'",
    pt: "'(1,2)'", ln: "'{1,2,3}'", ls: "'[(1,2),(3,4)]'", bx: "'((3,4),(1,2))'", pth: "'[(1,2),(3,4)]'", poly: "'((1,2),(3,4),(5,6))'", circ: "'<(1,2),3>'",
    bin: "'\\x616263c3a9'",
    i4a: "'{1,NULL,3}'", i8a2: "'{{1,9223372036854775807},{NULL,-9223372036854775808}}'", ta: `'{"a","b c",NULL,"NULL","",",\\\\\\""}'`,
    na: "'{1.50,NaN,-0.001}'", f8a: "'{0.1,NaN,-Infinity,1e300}'", tsa: "'{\"2024-01-01 10:00:00.5\",infinity,NULL}'", da: "'{2024-02-29,-infinity}'",
    jba: `ARRAY['{"z":1,"a":[1.0]}'::jsonb, 'null'::jsonb, NULL]`, ua: "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'", ba: "'{t,f,NULL}'",
    bxa: "'{(1,1),(0,0);(3,4),(1,2)}'", moods: "'{sad,happy}'", positives: "'{1,2}'", ia: "'{::1,10.1.2.3/8}'",
    hsa: `ARRAY['a=>1'::hstore, NULL]`,
    i4r: "'[1,5)'", i8r: "'[1,)'", nr: "'[1.5,2.5]'", dr: "'[2024-01-01,2024-01-05)'", tsr: "'[2024-01-01 10:00,2024-01-02 10:00)'",
    tstzr: "'[2024-01-01 10:00+00,)'",
  }],
  [2, {}],
  [3, {
    i2: '-32768', i4: '2147483647', i8: '-9223372036854775808', oid_value: '0',
    num: "'123456789012345678901234567890.123456789'", num0: "'-123456789012345678901234567890'", num2: "'-0.01'",
    f4: "'-Infinity'", f8: "'5e-324'", flag: 'false', txt: "''", vc: "'\u2028\u2029'", ch: "''", nm: "''", ci: "'\ud83d\ude00 astral'",
    u: "'00000000-0000-0000-0000-000000000000'", cash: "'-92233720368547758.08'", mood: "'sad'", positive: '2147483647', pair: "ROW(NULL, NULL)",
    d: "'0044-03-15 BC'", ts: "'0001-01-01 00:00:00 BC'", tstz: "'10000-01-01 00:00:00+00'", tm: "'24:00:00'", tmtz: "'00:00:00-14:59'",
    iv: "'-178000000 years'", j: `'[1e400, -1e400, 123456789.123456789e5, "\\ud83d\\ude00", "\\u0000\\u001f\\u007f", {"k": 1, "k": 2}]'`,
    jb: `'{"aa": 1, "b": [1e-7, 100000000000000000000.5], "a": {}}'`, hs: "''",
    ip: "'2001:db8:0:0:1:0:0:1/128'", net: "'2001:db8::/32'", mac: "'ff:ff:ff:ff:ff:ff'", mac8: "'00:00:00:00:00:00:00:00'",
    bits: "B'0000'", vbits: "B''", x: "''", tsv: "''", tsq: "'x'",
    pt: "'(1e300,-0)'", ln: "'{0.1,-2.5e-5,3}'", ls: "'[(0,0),(0,0)]'", bx: "'((0,0),(0,0))'", pth: "'((0,0),(1,1))'", poly: "'((0,0))'", circ: "'<(0,0),0>'",
    bin: "'\\x'",
    i4a: "'{}'", i8a2: "'[0:1]={7,8}'", ta: "'{}'", na: "'{}'", f8a: "'{}'", tsa: "'{}'", da: "'{}'",
    jba: "'{}'", ua: "'{}'", ba: "'{}'", bxa: "'{}'", moods: "'{}'", positives: "'{}'", ia: "'{}'", hsa: "'{}'",
    i4r: "'empty'", i8r: "'(,5]'", nr: "'(,)'", dr: "'[2024-01-01,infinity)'", tsr: "'[2024-01-01 10:00:00.5,infinity]'", tstzr: "'empty'",
  }],
  [4, {
    i2: '32767', i8: '9223372036854775807', num: "'NaN'", num0: "'0'", num2: "'99999999.99'", f4: "'3.4028235e38'", f8: "'NaN'",
    txt: "'\\u0000-free controls: \u0001\u001f\u007f tab\there'", ci: "'ÉCOLE'", cash: "'0'",
    d: "'1582-10-10'", ts: "'infinity'", tstz: "'-infinity'", tm: "'00:00:00'", iv: "'-1 day -00:00:00.5'",
    j: `'{"depth": ${'['.repeat(101)}${']'.repeat(101)}}'`, jb: "'\"just a string\"'",
    ip: "'::ffff:1.2.3.4'", net: "'192.168.0.0/16'",
    pt: "'(-1.5,2.5e-5)'", bin: "'\\x00e282ac'", f8a: "'{1.0e16,123456789012345680000}'",
    tsa: "'{\"0044-03-15 12:00:00 BC\",\"10000-01-01 00:00:00\"}'", da: "'{0001-01-01 BC}'",
    dr: "'[,2024-01-01)'", tsr: "'empty'", tstzr: "'[\"2024-06-01 12:00:00+02\",\"2024-06-01 13:00:00.25+02\"]'",
    i4r: "'(,)'", nr: "'[-1.0,)'",
  }],
]);

/** Rows ActiveRecord cannot read or ActiveSupport cannot write: the gem could not publish them. */
export const FAILING_SAMPLE_ROWS: ReadonlyMap<number, SampleRow> = new Map<number, SampleRow>([
  [90, { bin: "'\\xdeadbeef'" }],
  [91, { pt: "point('NaN', 1)" }],
  [92, { nr: "'(1.5,2.5]'" }],
  [93, { j: `'["\\udc00"]'` }],
  [94, { tsr: "'[-infinity,2024-01-01 10:00:00.5)'" }],
]);

export function schemaStatements(): string[] {
  return [
    'CREATE EXTENSION IF NOT EXISTS hstore',
    'CREATE EXTENSION IF NOT EXISTS citext',
    "CREATE TYPE mood AS ENUM ('happy', 'sad')",
    'CREATE DOMAIN posint AS integer CHECK (VALUE > 0)',
    'CREATE TYPE pair AS (a integer, b text)',
    `CREATE TABLE samples (id bigint PRIMARY KEY, account_id bigint,
       ${SAMPLE_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')},
       created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`,
    'CREATE TABLE accounts (id bigint PRIMARY KEY, name text, plan text, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)',
    `CREATE TABLE users (id bigint PRIMARY KEY, account_id bigint, name text, balance numeric(12,2), ratio double precision,
       active boolean, born date, prefs jsonb, note text, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`,
    'CREATE TABLE profiles (id bigint PRIMARY KEY, user_id bigint, bio text)',
    `CREATE TABLE bookings (id bigint PRIMARY KEY, account_id bigint NOT NULL, final_price numeric(10,2) NOT NULL,
       created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`,
    `CREATE TABLE bookings_fees (id bigint PRIMARY KEY, booking_id bigint NOT NULL, amount numeric(10,2) NOT NULL, details json,
       created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`,
    'CREATE TABLE bookings_taxes (id bigint PRIMARY KEY, booking_id bigint NOT NULL, name text NOT NULL, rate double precision)',
    `CREATE TABLE comments (id bigint PRIMARY KEY, body text, subject_type varchar, subject_id bigint, about_type varchar, about_id bigint,
       created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`,
    'CREATE TABLE tags (id bigint PRIMARY KEY, label text)',
    'CREATE TABLE posts (id bigint PRIMARY KEY, title text, tag_ids bigint[], created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)',
    'CREATE TABLE devices (id uuid PRIMARY KEY, name text)',
    'CREATE TABLE codes (id text PRIMARY KEY, label text)',
    'CREATE TABLE prices (id numeric PRIMARY KEY, amount numeric)',
  ];
}

const STAMPS = "'2024-01-01 10:00:00', '2024-01-02 11:30:00.5'";

export function dataStatements(): string[] {
  const samples = [...SAMPLE_ROWS, ...FAILING_SAMPLE_ROWS].map(([id, row]) => {
    const names = SAMPLE_COLUMNS.map(([name]) => name).filter((n) => row[n] !== undefined);
    return `INSERT INTO samples (id, account_id, ${[...names, 'created_at', 'updated_at'].join(', ')})
            VALUES (${id}, ${id === 2 ? 'NULL' : id * 10}, ${[...names.map((n) => row[n]), STAMPS].join(', ')})`;
  });
  return [
    ...samples,
    `INSERT INTO accounts VALUES (17, 'Knossos <Ltd>', 'gold', ${STAMPS}), (18, '', NULL, ${STAMPS})`,
    `INSERT INTO users VALUES
       (101, 17, 'Ariadne', 1234.5, 0.30000000000000004, true, '1990-05-17', '{"theme": "dark", "n": 1.0, "big": 98765432109876543210, "tz": "2024-01-01T10:00:00+02:00"}', 'note', ${STAMPS}),
       (102, NULL, 'Minos', NULL, 1e-7, false, NULL, '{"b": [], "a": {"z": 1, "y": 2}}', NULL, ${STAMPS}),
       (103, 18, '', -0.01, -0, NULL, '0001-01-01', '[]', '\u2028\u2029 <>&', ${STAMPS})`,
    'INSERT INTO profiles VALUES (501, 101, \'bio\'), (502, 103, NULL)',
    `INSERT INTO bookings VALUES (1, 17, 100, ${STAMPS}), (2, 18, 200.5, ${STAMPS}), (3, 17, 0, ${STAMPS})`,
    `INSERT INTO bookings_fees VALUES (11, 1, 6.50, '{"k": 1.0, "k": [2]}', ${STAMPS}), (12, 1, 7, NULL, ${STAMPS}), (21, 2, 9.99, '[]', ${STAMPS})`,
    "INSERT INTO bookings_taxes VALUES (31, 1, 'city tax', 0.1), (32, 2, 'tourist tax', 1e-3)",
    `INSERT INTO comments VALUES
       (201, 'on a booking', 'Booking', 1, 'Account', 17, ${STAMPS}),
       (202, 'on a user', 'User', 101, NULL, NULL, ${STAMPS}),
       (203, 'on nothing', NULL, NULL, 'Account', 99, ${STAMPS}),
       (204, 'on a missing booking', 'Booking', 999, NULL, NULL, ${STAMPS})`,
    "INSERT INTO tags VALUES (1, 'one'), (2, 'two'), (3, 'three')",
    `INSERT INTO posts VALUES (301, 'tagged', '{3,1}', ${STAMPS}), (302, 'untagged', NULL, ${STAMPS}), (303, 'missing tag', '{2,404}', ${STAMPS})`,
    "INSERT INTO devices VALUES ('3f2c8a1e-0000-4000-8000-000000000001', 'phone')",
    "INSERT INTO codes VALUES ('007', 'bond'), ('7', 'seven')",
    'INSERT INTO prices VALUES (42, 12.50), (0.5, NULL)',
  ];
}
