/** A DB older than this many days makes a scan warn (and fail with `--fail-on-stale`). */
export const STALE_AFTER_DAYS = 7;
