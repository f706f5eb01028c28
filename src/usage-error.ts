// The error of a setting the caller chose — a flag, a --config key, an option of a library call — that is out
// of its range or at odds with another, or with the run it resumes or the folder it names (--resume with another
// model, optimizer or --base than the run's, or of another command's run; an --out that holds a run or lies in
// one). The CLI prints its message as the one line and exits 2, as it does for every flag error; errors about
// files, runs and data themselves (missing, damaged, unreadable, not what the command takes) exit 1.

/** a setting the caller chose is wrong (see above); the message names it */
export class UsageError extends Error {}
