//! CPU cost of the core: signing a request and parsing pages.
//!
//! Each measurement sits next to its floor in the same group, so the report
//! reads as ratios: prepare vs a bare SHA-1 of the same canonical bytes, and
//! typed parsing vs parsing the same bytes into `serde_json::Value`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use polyv_core::{
    Config, Credentials, Endpoint, GetByUploader, Order, Page, Params, SecretKey, Video,
    canonical_string, parse_response, sign,
};
use serde::Deserialize;
use sha1::{Digest, Sha1};

/// The fastest typed parse we know with serde_json: the same envelope and
/// fields as `&str` borrowed from the input (no copy, no allocation per
/// string; it would fail on a string with escapes, which this page has none
/// of, so it is a floor no real client can use).
#[derive(Deserialize)]
#[allow(dead_code)]
struct BorrowedEnvelope<'a> {
    code: i64,
    message: &'a str,
    #[serde(borrow)]
    data: BorrowedPage<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct BorrowedPage<'a> {
    page_size: u32,
    page_number: u32,
    total_items: u64,
    #[serde(borrow)]
    contents: Vec<BorrowedVideo<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct BorrowedVideo<'a> {
    vid: &'a str,
    cataid: u64,
    title: &'a str,
    context: &'a str,
    times: u64,
    first_image: &'a str,
    tag: &'a str,
    aac_link: Option<&'a str>,
    status: &'a str,
    uploader_email: &'a str,
    ptime: i64,
}

const NOW_MS: u64 = 1_700_000_000_000;

fn query() -> GetByUploader {
    GetByUploader::builder()
        .email("ops+cn@example.com")
        .order(Order::PtimeDesc)
        .category(1_539_918_907_896)
        .include_subcategories(true)
        .published_only(true)
        .page(3)
        .page_size(100)
        .build()
        .unwrap()
}

/// A realistic page body: Chinese and emoji titles, tags present and absent,
/// some audio links, every status.
fn page_body(items: usize) -> Vec<u8> {
    let statuses = ["61", "60", "10", "20", "50", "51", "-1"];
    let contents: Vec<serde_json::Value> = (0..items)
        .map(|i| {
            serde_json::json!({
                "vid": format!("b0f7041324{i:022x}_b"),
                "cataid": 1_539_918_907_896u64 + (i as u64 % 7),
                "title": format!("第{i}集 产品发布会回放 🎬"),
                "context": "本视频介绍了保利威视频云的上传、转码与播放流程，适合新用户入门。",
                "times": i * 37 % 10_000,
                "firstImage": format!("http://img.videocc.net/uimage/b/b0f7041324/{i}/b0f7041324{i:022x}_0.jpg"),
                "tag": if i % 3 == 0 { String::new() } else { "教程,入门,直播".to_owned() },
                "aacLink": if i % 4 == 0 { serde_json::Value::from(format!("http://audio.videocc.net/{i}.aac")) } else { serde_json::Value::Null },
                "status": statuses[i % statuses.len()],
                "uploaderEmail": "test1@zzs.com",
                "ptime": 1_540_780_829_403u64 + i as u64 * 1000,
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "code": 200, "status": "success", "message": "success",
        "data": {"pageSize": items, "pageNumber": 1, "totalItems": items * 10, "contents": contents}
    }))
    .unwrap()
}

fn signing(c: &mut Criterion) {
    let config = Config::new(Credentials::new("b0f7041324", "tIQp4ATe9Z").unwrap());
    let query = query();
    let ptime = NOW_MS.to_string();
    let mut params = Params::new();
    query.params(&mut params);
    let pairs: Vec<(&str, &str)> = params.iter().chain([("ptime", ptime.as_str())]).collect();
    let canonical = format!("{}tIQp4ATe9Z", canonical_string(pairs.iter().copied()));
    let secret = SecretKey::new("tIQp4ATe9Z");

    let mut group = c.benchmark_group("sign");
    group.bench_function("floor: sha1 of canonical bytes", |b| {
        b.iter(|| Sha1::digest(black_box(canonical.as_bytes())))
    });
    group.bench_function("sign params", |b| {
        b.iter(|| sign(black_box(pairs.iter().copied()), &secret))
    });
    group.bench_function("signed_url get-by-uploader (all options)", |b| {
        b.iter(|| config.signed_url(black_box(&query), NOW_MS).unwrap())
    });
    group.bench_function("prepare get-by-uploader (all options)", |b| {
        b.iter(|| config.prepare(black_box(&query), NOW_MS).unwrap())
    });
    group.finish();
}

fn parsing(c: &mut Criterion) {
    for items in [20, 1000] {
        let body = page_body(items);
        // `cargo xtask bench` parses the same bytes with Python's json.loads.
        if let Some(dir) = std::env::var_os("POLYV_BENCH_FIXTURES") {
            let dir = std::path::PathBuf::from(dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("page{items}.json")), &body).unwrap();
        }
        let mut group = c.benchmark_group(format!("parse {items} items"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("Page<Video>", |b| {
            b.iter(|| parse_response::<Page<Video>>(200, None, black_box(&body)).unwrap())
        });
        group.bench_function("serde_json::Value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap())
        });
        group.bench_function("floor: borrowed typed structs", |b| {
            b.iter(|| serde_json::from_slice::<BorrowedEnvelope<'_>>(black_box(&body)).unwrap())
        });
        group.bench_function("floor: syntax only (IgnoredAny)", |b| {
            b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&body)).unwrap())
        });
        group.finish();
    }
}

criterion_group!(benches, signing, parsing);
criterion_main!(benches);
