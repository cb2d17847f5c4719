/**
 * Syntax checks of the database URL and the Kafka broker list, pure: a typo stops the start with a
 * message naming the setting, instead of surfacing as a connection failure. Messages never repeat
 * the URL (it holds the password); they name the part that is wrong.
 */

const URL_FORM = 'postgres://USER:PASSWORD@HOST:PORT/DATABASE';
/** libpq's sslmode values, plus node-postgres' no-verify. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** Why `url` cannot be the relay's database URL (a phrase for after the setting's name), or undefined when it can. */
export function databaseUrlProblem(url: string): string | undefined {
  const scheme = SCHEME.exec(url)?.[1];
  if (scheme === undefined) return `not a URL (expected ${URL_FORM})`;
  if (!['postgres', 'postgresql'].includes(scheme.toLowerCase())) {
    return `the scheme is "${scheme}:", not postgres: or postgresql: (the relay works with PostgreSQL only: ${URL_FORM})`;
  }
  if (!url.slice(scheme.length + 1).startsWith('//')) return `not a URL: ${scheme}: must be followed by // (${URL_FORM})`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `not a valid URL: check the port, and percent-encode @ : / ? # % in the user name and password (${URL_FORM})`;
  }
  if (parsed.hash !== '') return 'a "#" ends the URL early: percent-encode it as %23 in the password';
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
    return `no host (${URL_FORM}; for a Unix socket: postgres:///DATABASE?host=/var/run/postgresql)`;
  }
  if (parsed.port === '0') return 'port 0 (use 1 to 65535)';
  const parts: Array<[string, string]> = [
    ['user name', parsed.username],
    ['password', parsed.password],
    ['database name', parsed.pathname.replace(/^\//, '')],
  ];
  for (const [part, value] of parts) {
    try {
      decodeURIComponent(value);
    } catch {
      return `a "%" in the ${part} starts no percent-escape: write a literal % as %25`;
    }
  }
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode !== null && !(SSL_MODES as readonly string[]).includes(sslmode)) {
    return `sslmode=${sslmode} is not one of ${SSL_MODES.join(', ')}`;
  }
  return undefined;
}

/** The URL's sslmode parameter, if it parses and has one. */
export function sslModeOf(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('sslmode') ?? undefined;
  } catch {
    return undefined;
  }
}

// librdkafka's bootstrap entries: [PROTOCOL://]HOST[:PORT], HOST a name, an IPv4 or a bracketed IPv6.
const BROKER = /^(?:(?:plaintext|ssl|sasl_plaintext|sasl_ssl):\/\/)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]+))?$/i;

/** Why `list` is not a comma-separated list of Kafka bootstrap servers, or undefined. */
export function brokerListProblem(list: string): string | undefined {
  for (const entry of list.split(',').map((e) => e.trim())) {
    if (entry === '') return 'has an empty entry (a stray comma?); expected HOST:PORT[,HOST:PORT...]';
    const match = BROKER.exec(entry);
    if (match === null) return `has "${entry}", which is not HOST:PORT`;
    const port = match[1] === undefined ? undefined : Number(match[1]);
    if (port !== undefined && (port < 1 || port > 65_535)) return `has "${entry}", whose port is out of range (1 to 65535)`;
  }
  return undefined;
}
