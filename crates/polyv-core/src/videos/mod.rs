//! Videos: listing them by uploader (and the `Video` record), play counts,
//! reading one (get-video-msg), changing one (video-info) and deleting them
//! (del-video, del-videos).

mod delete;
mod get_by_uploader;
mod get_video;
mod play_times;
mod update;
mod video;

pub use delete::{DeleteMode, DeleteVideo, DeleteVideos, MAX_DELETE_BATCH, delete_batches};
pub use get_by_uploader::{GetByUploader, GetByUploaderBuilder, MAX_PAGE_SIZE, Order};
pub use get_video::{GetVideo, Uploader, VideoDetail};
pub use play_times::{PlayCount, PlayTimes, merge_play_counts};
pub use update::{UpdateVideo, UpdateVideoBuilder};
pub use video::{Tags, Timestamp, Video, VideoStatus};
