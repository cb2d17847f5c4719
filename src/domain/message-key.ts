// Kafka message key and event names, as the Ruby gem built them.
//
// Key: Dionysus::Producer::Key is "#{model_name}:#{id}" with the class name as is ("Admin::User:5",
// not underscored). Consumers lock per key, and the partition falls back to hashing it, so it
// must match byte for byte.
// Event: "<model_name.singular>_<action>", e.g. "bookings_fee_updated".

export type EventAction = 'created' | 'updated' | 'destroyed';

/** `${resourceClass}:${id}`, e.g. `User:1`, `Admin::User:5`. */
export function messageKey(resourceClass: string, id: string): string {
  return `${resourceClass}:${id}`;
}

/**
 * ActiveModel::Name#singular for a class name: ActiveSupport's `underscore` followed by
 * `tr("/", "_")` (no singularization is involved). `underscore` (Rails 7 form):
 *   1. `::` → `/`
 *   2. `_` before the last capital of a capital run followed by a lower-case letter
 *      (`HTTPRequest` → `HTTP_Request`) and between a lower-case letter/digit and a capital
 *      (`BookingsFee` → `Bookings_Fee`); one pass with lookaheads, as Rails does it;
 *   3. `-` → `_`, then lower-case.
 * Not reproduced: application-defined inflection acronyms (`inflect.acronym "API"`), which
 * change step 2; the default inflections define none.
 * Examples: `User` → `user`, `Admin::User` → `admin_user`, `HTTPRequest` → `http_request`.
 */
export function modelSingular(className: string): string {
  return className
    .replace(/::/g, '/')
    .replace(/([A-Z]+)(?=[A-Z][a-z])|([a-z\d])(?=[A-Z])/g, '$1$2_')
    .replace(/-/g, '_')
    .toLowerCase()
    .replace(/\//g, '_');
}

/** `<singular>_<action>`, e.g. eventName('BookingsFee', 'updated') → `bookings_fee_updated`. */
export function eventName(modelName: string, action: EventAction): string {
  return `${modelSingular(modelName)}_${action}`;
}
