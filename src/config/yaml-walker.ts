import { isMap, isScalar, isSeq, type Document, type Node as YamlNode } from 'yaml';

/**
 * Reads a YAML document by key path, collecting every problem (file, line, key path, reason)
 * instead of stopping at the first.
 */
export class YamlWalker {
  constructor(
    private readonly doc: Document,
    readonly file: string,
    private readonly at: (node: YamlNode | null | undefined) => string,
    readonly problems: string[],
  ) {}

  node(path: readonly string[]): YamlNode | undefined {
    return this.doc.getIn(path, true) as YamlNode | undefined;
  }

  /** The keys of the map at `path` (empty when there is none or it is not a map). */
  keys(path: readonly string[]): Array<{ key: string; node: YamlNode }> {
    const map = this.node(path);
    if (!isMap(map)) return [];
    return map.items.map((pair) => ({ key: isScalar(pair.key) ? String(pair.key.value) : '', node: pair.key as YamlNode }));
  }

  checkKeys(map: { items: Array<{ key: unknown }> }, path: string, allowed: readonly string[]): void {
    for (const pair of map.items) {
      const keyNode = pair.key as YamlNode;
      const key = isScalar(keyNode) ? String(keyNode.value) : '?';
      if (!allowed.includes(key)) {
        const where = path === '' ? key : `${path}.${key}`;
        this.fail(keyNode, where, `unknown key (expected one of: ${allowed.join(', ')})`);
      }
    }
  }

  optionalString(path: readonly string[], name: string, fallback: string): string {
    const node = this.node(path);
    if (node === undefined || (isScalar(node) && node.value === null)) return fallback;
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) {
      return String(node.value).trim();
    }
    this.fail(node, name, 'must be a string');
    return fallback;
  }

  optionalBoolean(path: readonly string[], name: string, fallback: boolean): boolean {
    const node = this.node(path);
    if (node === undefined || (isScalar(node) && node.value === null)) return fallback;
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.fail(node, name, 'must be true or false');
    return fallback;
  }

  /** A list of names matching `pattern` (empty when absent). */
  optionalNames(path: readonly string[], name: string, pattern: RegExp, what: string): string[] {
    const node = this.node(path);
    if (node === undefined || (isScalar(node) && node.value === null)) return [];
    const items = isSeq(node) ? node.items.map((i) => (isScalar(i) ? String(i.value) : '')) : undefined;
    if (items === undefined || items.some((i) => !pattern.test(i))) {
      this.fail(node, name, `must be a list of ${what}`);
      return [];
    }
    return items;
  }

  fail(node: YamlNode | null | undefined, key: string, reason: string): void {
    this.problems.push(`${this.file}${this.at(node)}: ${key === '' ? '(root)' : key}: ${reason}`);
  }
}
