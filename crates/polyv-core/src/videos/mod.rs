//! Videos: listing them by uploader (and the `Video` record), play counts.

mod get_by_uploader;
mod play_times;
mod video;

pub use get_by_uploader::{GetByUploader, GetByUploaderBuilder, MAX_PAGE_SIZE, Order};
pub use play_times::{PlayCount, PlayTimes, merge_play_counts};
pub use video::{Tags, Timestamp, Video, VideoStatus};
