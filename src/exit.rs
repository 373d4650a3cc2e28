//! Exit codes: every code the binary returns, as docs/command-line.md documents them.

/// The command did what it was asked (warnings may be on stderr).
pub const SUCCESS: i32 = 0;
/// The input is invalid (any error in the report); nothing is on stdout.
pub const INVALID_INPUT: i32 = 1;
/// The command line is wrong (clap uses this code too).
pub const USAGE: i32 = 2;
/// `diff --exit-code`: the change does something.
pub const CHANGES_FOUND: i32 = 3;
/// sysexits' EX_SOFTWARE: kdrender itself went wrong (a code no exit status can carry).
pub const SOFTWARE: i32 = 70;
/// sysexits' EX_IOERR: the machine failed us (stdout cannot be written, a temporary folder
/// cannot be made, git stops answering).
pub const IO_ERROR: i32 = 74;
