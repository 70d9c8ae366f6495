/** A UUID as PostgreSQL's uuid type accepts it: anything else is "not found" before any query. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** HighLevel's ids (locations, calendars, users, events): letters, digits, - and _. */
export const HIGHLEVEL_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** Control characters (NUL above all: PostgreSQL text cannot hold it) have no place in a title. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * Half of a UTF-16 surrogate pair on its own: no character at all. JSON can spell one (`"\\ud800"`),
 * HighLevel would get U+FFFD instead, and PostgreSQL's JSON refuses it.
 */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
