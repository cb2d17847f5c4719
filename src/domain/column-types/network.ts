// inet / cidr as ActiveRecord reads them: `IPAddr.new(text)`, which applies the prefix as a mask
// (`192.168.1.5/24` becomes the network `192.168.1.0`), and ActiveSupport writes IPAddr#to_s:
// the address alone, IPv6 compressed the way Ruby's ipaddr library does it (which differs from
// RFC 5952 in places, e.g. `::1:2` prints as `::0.1.0.2`). Ruby's to_i is the address as an integer.
import { EncodingError } from '../rails-json';

interface RubyIpAddr {
  readonly v6: boolean;
  /** The masked address. */
  readonly value: bigint;
}

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseV6(text: string): bigint | undefined {
  let head = text;
  let v4tail: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    v4tail = parseV4(text.slice(lastColon + 1));
    if (v4tail === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  let value = all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (v4tail !== undefined) value = (value & ~0xffffffffn) | v4tail;
  return value;
}

/** IPAddr.new of PostgreSQL's inet/cidr text; throws EncodingError for a shape it never prints. */
export function parseIpAddr(text: string, column: string): RubyIpAddr {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const v6 = address.includes(':');
  const bits = v6 ? 128 : 32;
  const prefix = slash === -1 ? bits : Number(text.slice(slash + 1));
  const value = v6 ? parseV6(address) : parseV4(address);
  if (value === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
    throw new EncodingError(`unexpected PostgreSQL inet/cidr text ${JSON.stringify(text)}`, column);
  }
  const all = (1n << BigInt(bits)) - 1n;
  const mask = (all << BigInt(bits - prefix)) & all;
  return { v6, value: value & mask };
}

/** Ruby's IPAddr#to_s. */
export function ipAddrToS(ip: RubyIpAddr): string {
  if (!ip.v6) return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join('.');
  let s = ip.value.toString(16).padStart(32, '0').replace(/.{4}(?!$)/g, '$&:');
  s = s.replace(/\b0{1,3}([\da-f]+)\b/gi, '$1');
  const runs = [/^0:0:0:0:0:0:0:0$/, /\b0:0:0:0:0:0:0\b/, /\b0:0:0:0:0:0\b/, /\b0:0:0:0:0\b/, /\b0:0:0:0\b/, /\b0:0:0\b/, /\b0:0\b/];
  for (const [i, run] of runs.entries()) {
    if (run.test(s)) {
      s = s.replace(run, i === 0 ? '::' : ':');
      break;
    }
  }
  s = s.replace(/:{3,}/, '::');
  const m = /^::(ffff:)?([\da-f]{1,4}):([\da-f]{1,4})$/i.exec(s);
  if (m !== null) {
    const a = parseInt(m[2] as string, 16);
    const b = parseInt(m[3] as string, 16);
    s = `::${m[1] ?? ''}${Math.floor(a / 256)}.${a % 256}.${Math.floor(b / 256)}.${b % 256}`;
  }
  return s;
}

export function ipJson(text: string, column: string): string {
  return `"${ipAddrToS(parseIpAddr(text, column))}"`;
}

export function ipToI(text: string, column: string): string {
  return parseIpAddr(text, column).value.toString();
}
