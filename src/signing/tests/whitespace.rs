//! Header values: trimmed and every run of ASCII whitespace folded to one space, botocore's
//! rule, and what is not folded.

use super::*;

/// TEST-PLAN S5: header values are trimmed and every run of whitespace folded to one space,
/// botocore's rule (`' '.join(value.split())` in `botocore.auth.SigV4Auth`): tabs, line
/// breaks and the other ASCII separators Python's `str.split()` splits on fold like spaces.
/// The expected values below are what Python 3 computes for each input. Non-ASCII characters
/// are kept as they are.
#[test]
fn canonical_request_folds_header_whitespace_like_botocore() {
    let creq = canonical_request(
        "GET",
        "/",
        "",
        &[
            ("a", "   lead"),
            ("b", "trail   "),
            ("c", "  in   the    middle  "),
            ("d", "\ttab\t\tfolded\t"),
            ("e", "  ünï  cödé  "),
            ("f", "    "),
            ("g", ""),
            ("h", " mixed \t \t runs "),
            ("i", "line\r\nfeed"),
            ("j", "\x0bvt\x0cff\x1cfs\x1fus"),
            ("k", "clean value"),
        ],
        "UNSIGNED-PAYLOAD",
    );
    assert_eq!(
        creq,
        "GET\n/\n\n\
         a:lead\n\
         b:trail\n\
         c:in the middle\n\
         d:tab folded\n\
         e:ünï cödé\n\
         f:\n\
         g:\n\
         h:mixed runs\n\
         i:line feed\n\
         j:vt ff fs us\n\
         k:clean value\n\
         \n\
         a;b;c;d;e;f;g;h;i;j;k\n\
         UNSIGNED-PAYLOAD"
    );
}

/// TEST-PLAN S5: the signer signs a value with a tab as botocore does: the same signature as
/// the value with the tab replaced by a space.
#[test]
fn a_tab_signs_like_a_space() {
    let creds = SigningCredentials::new("AKID", "secret", None);
    let signer = Signer::new("us-east-1", "s3");
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_369_353_600);
    let sign = |value: &str| {
        let headers = [("host", "h"), ("x-amz-meta-note", value)];
        let req = SignableRequest {
            method: "PUT",
            path: "/k",
            query: "",
            headers: &headers,
        };
        signer
            .sign_headers(creds, time, &req, &PayloadHash::Unsigned)
            .authorization
    };
    assert_eq!(sign("a\tb"), sign("a b"));
    assert_eq!(sign("\ta \t\t b\t"), sign("a b"));
    assert_ne!(sign("a\tb"), sign("ab"));
}

/// Review of issue 12: only ASCII whitespace folds; Unicode whitespace (no-break space,
/// ideographic space), which botocore's `str.split()` would fold too, is kept as it is, as
/// the documentation of `SignableRequest::headers` says.
#[test]
fn unicode_whitespace_is_kept() {
    let creq = canonical_request(
        "GET",
        "/",
        "",
        &[("a", "x\u{a0}\u{a0}y"), ("b", "\u{3000}z\u{3000}")],
        "UNSIGNED-PAYLOAD",
    );
    assert_eq!(
        creq,
        "GET\n/\n\na:x\u{a0}\u{a0}y\nb:\u{3000}z\u{3000}\n\na;b\nUNSIGNED-PAYLOAD"
    );
}
