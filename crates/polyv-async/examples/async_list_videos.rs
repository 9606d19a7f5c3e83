//! Prints the first page of get-by-uploader.
//!
//! ```sh
//! cargo run -p polyv-mock --features cli &   # a local mock server; note the URL it prints
//! POLYV_USER_ID=demo0000a1 POLYV_SECRET_KEY=DemoSecretKey123 \
//! POLYV_BASE_URL=http://127.0.0.1:PORT cargo run -p polyv-async --example async_list_videos
//! ```
//!
//! Without `POLYV_BASE_URL` it talks to the production API.

use polyv_async::{Client, Config, GetByUploader, Order};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // POLYV_USER_ID, POLYV_SECRET_KEY and POLYV_BASE_URL (when set).
    let client = Client::new(Config::from_env()?)?;
    let query = GetByUploader::builder().order(Order::PtimeDesc).build()?;
    let page = client.get_by_uploader(&query).await?;
    println!(
        "page {} of {} ({} videos in all)",
        page.page_number,
        page.last_page(),
        page.total_items
    );
    for video in &page.items {
        println!("{}\t{:?}\t{}", video.vid(), video.status(), video.title());
    }
    Ok(())
}
