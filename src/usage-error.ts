// The error of a setting the caller chose — a flag, a --config key, an option of a library call — that is out
// of its range or at odds with another. The CLI prints its message as the one line and exits 2, as it does for
// every flag error; errors about files, runs and data (what the settings meet) exit 1.

/** a setting the caller chose is wrong (see above); the message names it */
export class UsageError extends Error {}
