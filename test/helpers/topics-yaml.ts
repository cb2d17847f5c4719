/**
 * The topics YAML most tests use: `<namespace>_users`, partitioned by id, with a User serializer
 * over a `users (id, name)` table; `sql` replaces the serializer, `options` set the topic's
 * ordering and coalescing.
 */
export function usersTopicsYaml(
  namespace: string,
  sql = 'SELECT id, name FROM users WHERE id = ANY($1::bigint[])',
  options: { ordering?: 'strict'; coalesce?: boolean } = {},
): string {
  const extra = `${options.ordering === undefined ? '' : `\n    ordering: ${options.ordering}`}${options.coalesce === true ? '\n    coalesce: true' : ''}`;
  return `
namespace: ${namespace}
topics:
  users:
    partition_key: id${extra}
    models:
      User:
        sql: ${sql}
`;
}
