//! Property tests: no input an answer or a caller can hand the upload code
//! makes it panic.

use proptest::prelude::*;

use super::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn oss_answers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300), status in any::<u16>()) {
        let _ = parse_initiate(&body);
        let _ = parse_list_parts(&body);
        let err = OssError::from_response(status, &body);
        let _ = err.action();
        prop_assert!(!err.code().is_empty());
    }

    #[test]
    fn xml_like_text_never_panics(text in "[<>/&;#xA-Za-z0-9 \\[\\]!视频é]{0,120}") {
        for wrapped in [
            text.clone(),
            format!("<InitiateMultipartUploadResult><UploadId>{text}</UploadId></InitiateMultipartUploadResult>"),
            format!("<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>{text}</ETag></Part></ListPartsResult>"),
            format!("<Error><Code>X</Code><Message>{text}</Message></Error>"),
        ] {
            let _ = parse_initiate(wrapped.as_bytes());
            let _ = parse_list_parts(wrapped.as_bytes());
            let _ = OssError::from_response(400, wrapped.as_bytes());
        }
    }

    #[test]
    fn complete_bodies_read_back(etags in proptest::collection::vec("[ -~视]{1,20}", 1..5)) {
        let parts: Vec<FinishedPart> = etags
            .iter()
            .enumerate()
            .map(|(i, etag)| FinishedPart::new(u32::try_from(i).unwrap_or(0) + 1, etag.trim().to_owned()))
            .filter(|part| !part.etag.is_empty())
            .collect();
        let body = complete_body(&parts);
        let listed = parse_list_parts(
            format!("<ListPartsResult>{}</ListPartsResult>", body.replace("CompleteMultipartUpload", "X")).as_bytes(),
        ).unwrap();
        let read: Vec<FinishedPart> = listed.parts.into_iter().map(|p| FinishedPart::new(p.number, p.etag)).collect();
        prop_assert_eq!(read, parts);
    }

    #[test]
    fn objects_paths_and_domains_never_panic(domain in "\\PC{0,16}", key in "\\PC{0,16}", path in "\\PC{0,24}") {
        let _ = file_extension(&path);
        let _ = UrlScheme::of_base_url(&domain);
        if let Ok(object) = OssObject::new(UrlScheme::Https, domain, "b", key) {
            let url = object.url(&[("uploads", None)]).unwrap_or_default();
            prop_assert!(url.parse::<http::Uri>().is_ok(), "{}", url);
        }
    }

    #[test]
    fn plans_cover_any_file(size in 1u64..=MAX_FILE_SIZE, part_size in any::<u64>()) {
        if let Ok(plan) = PartPlan::with_part_size(size, part_size) {
            prop_assert!(plan.part_count() >= 1 && plan.part_count() <= MAX_PARTS);
            let last = plan.part(plan.part_count()).unwrap();
            prop_assert_eq!(last.offset + last.len, size);
            prop_assert!(last.len >= 1);
        }
        let plan = PartPlan::new(size).unwrap();
        prop_assert!(plan.part_count() <= MAX_PARTS);
    }
}
