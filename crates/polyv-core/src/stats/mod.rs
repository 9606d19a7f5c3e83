//! Statistics: one day's view log (viewlog), and the date and time types
//! the statistics speak in.

mod day;
mod viewlog;

pub(crate) use day::opt_time;
pub use day::{ApiTime, Day};
pub use viewlog::{MAX_SESSION_ID_CHARS, ViewLog, ViewLogBuilder, ViewLogRow};
