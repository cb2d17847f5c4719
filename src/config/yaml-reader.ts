import { LineCounter, isMap, isScalar, parseDocument, type Document, type Node as YamlNode } from 'yaml';

/**
 * Typed reads from a YAML document that collect every problem as `file:line: key.path: reason`
 * instead of stopping at the first one. Paths are arrays of keys; a missing or null value reads
 * as the fallback.
 */
export class YamlReader {
  readonly problems: string[] = [];
  private readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(text: string, readonly file: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true });
    for (const e of this.doc.errors) {
      const pos = e.linePos?.[0];
      this.problems.push(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`);
    }
  }

  get root(): YamlNode | null {
    return this.doc.contents as YamlNode | null;
  }

  node(path: readonly string[]): YamlNode | undefined {
    return this.doc.getIn(path, true) as YamlNode | undefined;
  }

  /** Keys of the map at `path` ([] when absent); fails when it is not a map or has unknown keys. */
  mapKeys(path: readonly string[], allowed?: readonly string[], what = 'a map'): string[] {
    const node = this.node(path);
    if (node === undefined || (isScalar(node) && node.value === null)) return [];
    if (!isMap(node)) {
      this.fail(node, path, `must be ${what}`);
      return [];
    }
    const keys: string[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      if (allowed !== undefined && !allowed.includes(key)) {
        this.fail(keyNode, [...path, key], `unknown key (expected one of: ${allowed.join(', ')})`);
        continue;
      }
      keys.push(key);
    }
    return keys;
  }

  string(path: readonly string[], fallback: string, pattern?: { test: RegExp; says: string }): string {
    const node = this.node(path);
    if (node === undefined || (isScalar(node) && node.value === null)) return fallback;
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) {
      const value = String(node.value).trim();
      if (pattern !== undefined && !pattern.test.test(value)) this.fail(node, path, pattern.says);
      return value;
    }
    this.fail(node, path, 'must be a string');
    return fallback;
  }

  oneOf<T extends string>(path: readonly string[], choices: readonly T[], fallback: T): T {
    const value = this.string(path, fallback);
    if ((choices as readonly string[]).includes(value)) return value as T;
    this.fail(this.node(path), path, `must be one of ${choices.join(', ')}`);
    return fallback;
  }

  boolean(path: readonly string[], fallback: boolean): boolean {
    const node = this.node(path);
    if (node === undefined || (isScalar(node) && node.value === null)) return fallback;
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.fail(node, path, 'must be true or false');
    return fallback;
  }

  /** A scalar map value as is (string, number or boolean), for pass-through settings. */
  scalar(path: readonly string[]): string | number | boolean | undefined {
    const node = this.node(path);
    if (isScalar(node) && ['string', 'number', 'boolean'].includes(typeof node.value)) return node.value as string | number | boolean;
    this.fail(node, path, 'must be a string, number or boolean');
    return undefined;
  }

  fail(node: YamlNode | null | undefined, path: readonly string[], reason: string): void {
    const offset = node?.range?.[0];
    const line = offset === undefined ? '' : `:${this.lines.linePos(offset).line}`;
    this.problems.push(`${this.file}${line}: ${path.length === 0 ? '(root)' : path.join('.')}: ${reason}`);
  }
}
