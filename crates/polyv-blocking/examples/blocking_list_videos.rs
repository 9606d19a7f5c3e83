//! Prints the first page of the account's videos.
//!
//! ```text
//! cargo run -p polyv-mock --features cli &   # prints its base URL and demo credentials
//! POLYV_USER_ID=... POLYV_SECRET_KEY=... POLYV_BASE_URL=http://127.0.0.1:PORT \
//!     cargo run -p polyv-blocking --example blocking_list_videos
//! ```
//!
//! Without `POLYV_BASE_URL` it calls Polyv's production API.

use std::io::Write;

use polyv_blocking::{Client, Config, Error, GetByUploader};

fn main() {
    if let Err(error) = run() {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    // POLYV_USER_ID, POLYV_SECRET_KEY and POLYV_BASE_URL (when set).
    let client = Client::new(Config::from_env()?)?;
    let page = client.get_by_uploader(&GetByUploader::new())?;
    // A closed stdout (`| head`) just ends the listing.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "page {} of {} ({} videos in all, {} per page)",
        page.page_number,
        page.last_page(),
        page.total_items,
        page.page_size
    );
    for video in &page.items {
        if writeln!(
            out,
            "{}  {:?}  {:>6} plays  {}",
            video.vid(),
            video.status(),
            video.times(),
            video.title()
        )
        .is_err()
        {
            break;
        }
    }
    Ok(())
}
