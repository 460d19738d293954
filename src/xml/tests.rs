//! Hostile and malformed inputs against every parser, and property tests that no input panics.

use proptest::prelude::*;

use super::*;

/// Runs every parser on `body`, returning each result's error (or `None` on success).
fn all_errors(body: &[u8]) -> Vec<(&'static str, Option<XmlError>)> {
    vec![
        ("list_objects_v2", parse_list_objects_v2(body).err()),
        ("list_buckets", parse_list_buckets(body).err()),
        ("delete_result", parse_delete_result(body).err()),
        ("copy_object_result", parse_copy_object_result(body).err()),
        ("initiate_multipart", parse_initiate_multipart(body).err()),
        ("complete_multipart", parse_complete_multipart(body).err()),
        ("list_parts", parse_list_parts(body).err()),
        ("location_constraint", parse_location_constraint(body).err()),
    ]
}

/// Runs the n-th parser of [`all_errors`] on the n-th body (of [`in_each_root`]): each parser
/// on a document of its own root.
fn all_errors_by_root(bodies: &[Vec<u8>]) -> Vec<(&'static str, Option<XmlError>)> {
    bodies
        .iter()
        .zip(0..all_errors(b"").len())
        .map(|(body, i)| all_errors(body).swap_remove(i))
        .collect()
}

/// Wraps `inner` in each parser's own root so the hostile part is reached.
fn in_each_root(inner: &str) -> Vec<Vec<u8>> {
    [
        "ListBucketResult",
        "ListAllMyBucketsResult",
        "DeleteResult",
        "CopyObjectResult",
        "InitiateMultipartUploadResult",
        "CompleteMultipartUploadResult",
        "ListPartsResult",
        "LocationConstraint",
        "Error",
    ]
    .iter()
    .map(|root| format!("<?xml version=\"1.0\"?>\n<{root}>{inner}</{root}>").into_bytes())
    .collect()
}

/// Asserts that every parser fails on `body` (and `parse_error` finds no error document),
/// and that each failure satisfies `check`.
fn assert_all_fail(body: &[u8], check: impl Fn(&XmlError) -> bool) {
    for (name, err) in all_errors(body) {
        let err = err.unwrap_or_else(|| panic!("{name} accepted a hostile document"));
        assert!(check(&err), "{name}: {err:?}");
    }
    assert_eq!(parse_error(body), None);
}

#[test]
fn empty_and_blank_bodies() {
    for body in [
        &b""[..],
        b"  \r\n\t ",
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
    ] {
        assert_all_fail(body, |e| matches!(e, XmlError::Malformed(_)));
    }
}

#[test]
fn truncated_documents() {
    let doc = "<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents>\
               <IsTruncated>false</IsTruncated></ListBucketResult>";
    for cut in 1..doc.len() {
        assert!(
            parse_list_objects_v2(&doc.as_bytes()[..cut]).is_err(),
            "accepted a document cut at {cut}"
        );
    }
    for body in in_each_root("<Key>abc</Key>") {
        let cut = &body[..body.len() - 3];
        assert_all_fail(cut, |e| {
            matches!(e, XmlError::Malformed(_) | XmlError::UnexpectedRoot { .. })
        });
    }
}

#[test]
fn wrong_root() {
    let body = b"<Unrelated><Key>k</Key></Unrelated>";
    assert_all_fail(
        body,
        |e| matches!(e, XmlError::UnexpectedRoot { found, .. } if found == "Unrelated"),
    );
    let html = b"<html><head><title>503 Service Unavailable</title></head><body></body></html>";
    assert_all_fail(html, |e| matches!(e, XmlError::UnexpectedRoot { .. }));
    let long = format!("<{0}/>", "X".repeat(10_000));
    assert_all_fail(
        long.as_bytes(),
        |e| matches!(e, XmlError::UnexpectedRoot { found, .. } if found.len() <= 64),
    );
}

#[test]
fn invalid_utf8() {
    for body in in_each_root("<Key>\u{0}</Key>") {
        let mut body = body;
        let at = body.iter().position(|b| *b == 0).unwrap_or(0);
        body[at] = 0xff;
        assert_all_fail(&body, |e| matches!(e, XmlError::NotUtf8));
    }
    assert_all_fail(b"\xc3\x28", |e| matches!(e, XmlError::NotUtf8));
}

#[test]
fn one_mebibyte_text_node() {
    let big = "A".repeat(1 << 20);
    // A parser meeting the huge text in a field it reads fails with TextTooLarge; one that
    // does not read that field skips it (its answer is then decided by the rest, here a
    // missing required field at most). Each body is tried on its own root's parser.
    let mut too_large = Vec::new();
    for field in ["Key", "ETag", "UploadId", "Code", "Name", "Location"] {
        let bodies = in_each_root(&format!("<{field}>{big}</{field}>"));
        for (name, err) in all_errors_by_root(&bodies) {
            match err {
                Some(XmlError::TextTooLarge) => too_large.push(format!("{name}/{field}")),
                None | Some(XmlError::MissingElement(_)) => {}
                Some(other) => panic!("{name} on <{field}>: {other:?}"),
            }
        }
    }
    too_large.sort();
    assert_eq!(
        too_large,
        [
            "complete_multipart/ETag",
            "complete_multipart/Location",
            "copy_object_result/ETag",
            "initiate_multipart/UploadId",
        ]
    );
    let list = format!(
        "<ListBucketResult><Contents><Key>{big}</Key><Size>1</Size></Contents></ListBucketResult>"
    );
    assert!(matches!(
        parse_list_objects_v2(list.as_bytes()),
        Err(XmlError::TextTooLarge)
    ));
    let location = format!("<LocationConstraint>{big}</LocationConstraint>");
    assert!(matches!(
        parse_location_constraint(location.as_bytes()),
        Err(XmlError::TextTooLarge)
    ));
    let error = format!("<Error><Code>{big}</Code></Error>");
    assert_eq!(parse_error(error.as_bytes()), None);
    // Many small escapes add up too.
    let escaped = "&amp;".repeat(100_000);
    let upload = format!(
        "<InitiateMultipartUploadResult><UploadId>{escaped}</UploadId></InitiateMultipartUploadResult>"
    );
    assert!(matches!(
        parse_initiate_multipart(upload.as_bytes()),
        Err(XmlError::TextTooLarge)
    ));
}

/// TEST-PLAN S7 (deep nesting)
#[test]
fn ten_thousand_deep_nesting() {
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    for body in in_each_root(&deep) {
        assert_all_fail(&body, |e| {
            matches!(e, XmlError::TooDeep | XmlError::UnexpectedRoot { .. })
        });
    }
    let open_only = "<Contents>".repeat(10_000);
    for body in in_each_root(&open_only) {
        assert_all_fail(&body, |e| {
            matches!(
                e,
                XmlError::TooDeep | XmlError::UnexpectedRoot { .. } | XmlError::Malformed(_)
            )
        });
    }
    let list = format!("<ListBucketResult>{deep}</ListBucketResult>");
    assert!(matches!(
        parse_list_objects_v2(list.as_bytes()),
        Err(XmlError::TooDeep)
    ));
    let key =
        format!("<ListBucketResult><Contents><Key>{deep}</Key></Contents></ListBucketResult>");
    assert!(matches!(
        parse_list_objects_v2(key.as_bytes()),
        Err(XmlError::TooDeep)
    ));
}

/// TEST-PLAN S7 (DOCTYPE with entities)
#[test]
fn billion_laughs_is_refused() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
"#;
    for root in [
        "Error",
        "ListBucketResult",
        "CopyObjectResult",
        "LocationConstraint",
    ] {
        let body = format!("{laughs}<{root}><Key>&lol9;</Key><Code>&lol9;</Code></{root}>");
        assert_all_fail(body.as_bytes(), |e| matches!(e, XmlError::DocType));
        assert!(!is_error_document(body.as_bytes()));
    }
    // A DOCTYPE after the root start is refused as well, and so is an undeclared entity.
    let inner = "<ListBucketResult><!DOCTYPE x><IsTruncated>true</IsTruncated></ListBucketResult>";
    assert!(matches!(
        parse_list_objects_v2(inner.as_bytes()),
        Err(XmlError::DocType)
    ));
    let external =
        r#"<!DOCTYPE r SYSTEM "file:///etc/passwd"><LocationConstraint>&xxe;</LocationConstraint>"#;
    assert!(matches!(
        parse_location_constraint(external.as_bytes()),
        Err(XmlError::DocType)
    ));
    assert!(matches!(
        parse_location_constraint(b"<LocationConstraint>&xxe;</LocationConstraint>"),
        Err(XmlError::Malformed(_))
    ));
}

#[test]
fn mismatched_and_stray_tags() {
    for body in [
        &b"<ListBucketResult><Contents></Content></ListBucketResult>"[..],
        b"<ListBucketResult></ListBucketResult></ListBucketResult>",
        b"<ListBucketResult><IsTruncated>true</ListBucketResult>",
        b"<ListBucketResult><KeyCount>1 &amp 2</KeyCount></ListBucketResult>",
        b"<ListBucketResult><KeyCount>&#0;</KeyCount></ListBucketResult>",
        b"<ListBucketResult><?xml version=\"1.0\"?></ListBucketResult>",
    ] {
        assert!(
            matches!(parse_list_objects_v2(body), Err(XmlError::Malformed(_))),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn declaration_whitespace_and_bom_are_tolerated() {
    let body = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- hi -->\n\
                <LocationConstraint>us-west-2</LocationConstraint>\n";
    assert_eq!(
        parse_location_constraint(body.as_bytes())
            .unwrap()
            .as_deref(),
        Some("us-west-2")
    );
}

#[test]
fn written_bodies_are_well_formed_and_typed_results_default_empty() {
    use crate::types::PartInfo;

    let bodies = [
        write_delete_objects(&[("a&b", Some("v")), ("日本", None)], true).unwrap(),
        write_create_bucket(Some("eu-central-1")),
        write_complete_multipart(&[PartInfo::new(1, "\"e1\""), PartInfo::new(2, "\"e2\"")]),
    ];
    for body in &bodies {
        let (mut r, root) = reader::XmlReader::open(body.as_bytes()).unwrap();
        while r.next_child(&root).unwrap().is_some() {}
        r.finish().unwrap();
    }
    let done: CompleteResult =
        parse_complete_multipart(b"<CompleteMultipartUploadResult/>").unwrap();
    assert_eq!(done, CompleteResult::default());
    let copy: CopyResult = parse_copy_object_result(b"<CopyObjectResult/>").unwrap();
    assert_eq!(copy, CopyResult::default());
    let parts: PartsPage = parse_list_parts(b"<ListPartsResult/>").unwrap();
    assert_eq!(parts, PartsPage::default());
}

#[test]
fn errors_display_one_line() {
    let errors = [
        XmlError::Malformed("unexpected end of document".into()),
        XmlError::NotUtf8,
        XmlError::UnexpectedRoot {
            expected: "CopyObjectResult",
            found: "Error".into(),
        },
        XmlError::MissingElement("Size"),
        XmlError::InvalidValue("LastModified"),
        XmlError::DocType,
        XmlError::TooDeep,
        XmlError::TextTooLarge,
        XmlError::UnrepresentableChar("Key"),
    ];
    for e in errors {
        let shown = e.to_string();
        assert!(!shown.is_empty() && !shown.contains('\n'), "{shown}");
    }
}

/// Fragments that stress the tokenizer when glued together at random.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "<ListBucketResult>",
        "</ListBucketResult>",
        "<Contents>",
        "</Contents>",
        "<Key>",
        "</Key>",
        "<Size>",
        "</Size>",
        "1",
        "<CommonPrefixes>",
        "</CommonPrefixes>",
        "<Prefix>",
        "</Prefix>",
        "<EncodingType>url</EncodingType>",
        "%",
        "%4",
        "%41",
        "&amp;",
        "&#x",
        ";",
        "<",
        ">",
        "/>",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "<?xml version=\"1.0\"?>",
        "<!DOCTYPE",
        "<Error>",
        "</Error>",
        "<Code>",
        "</Code>",
        "<Part>",
        "</Part>",
        "<PartNumber>",
        "</PartNumber>",
        "<ETag>",
        "</ETag>",
        "<AssumeRoleWithWebIdentityResponse>",
        "<AssumeRoleWithWebIdentityResult>",
        "<Credentials>",
        "</Credentials>",
        "<Expiration>2030-01-02T03:04:05Z</Expiration>",
        "<ErrorResponse>",
        " ",
        "\r\n",
        "x:",
        "=\"",
    ]);
    prop_oneof![
        pieces.prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..4),
    ]
}

/// Runs everything that takes a body, for the no-panic properties.
fn run_all(body: &[u8]) {
    let _ = all_errors(body);
    let _ = parse_error(body);
    let _ = is_error_document(body);
    let _ = parse_assume_role_with_web_identity(body);
    let _ = parse_sts_error(body);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        run_all(&body);
    }

    #[test]
    fn glued_fragments_never_panic(parts in prop::collection::vec(fragment(), 0..60)) {
        let body: Vec<u8> = parts.concat();
        run_all(&body);
    }

    #[test]
    fn listing_round_trips_encoded_keys(keys in prop::collection::vec("[a-z%+ 日]{0,12}", 0..6)) {
        let mut doc = String::from("<ListBucketResult>");
        for key in &keys {
            let encoded: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
            doc.push_str(&format!("<Contents><Key>{encoded}</Key><Size>0</Size></Contents>"));
        }
        doc.push_str("<EncodingType>url</EncodingType></ListBucketResult>");
        let page = parse_list_objects_v2(doc.as_bytes()).unwrap();
        let got: Vec<String> = page.objects.into_iter().map(|o| o.key.into()).collect();
        prop_assert_eq!(got, keys);
    }
}
