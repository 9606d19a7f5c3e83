//! Videos: listing them by uploader, and the `Video` record.

mod get_by_uploader;
mod video;

pub use get_by_uploader::{GetByUploader, GetByUploaderBuilder, MAX_PAGE_SIZE, Order};
pub use video::{Tags, Timestamp, Video, VideoStatus};
