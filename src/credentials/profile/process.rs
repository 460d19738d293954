//! `credential_process`: run the profile's command and read credentials from its output.
//!
//! The command runs through the shell (`sh -c` on unix, `cmd /C` on Windows) with the
//! process's environment, no stdin, and a time limit. Its stdout must be one JSON object:
//! `{"Version": 1, "AccessKeyId": …, "SecretAccessKey": …, "SessionToken": …, "Expiration":
//! "<RFC 3339>"}`, the last two optional. Errors never quote stdout, which holds secrets;
//! a failed command's first stderr line is quoted, shortened.

use super::files::fail;
use crate::credentials::Credentials;
use crate::error::Result;
use serde_json::{Map, Value};
use std::process::Stdio;
use std::time::{Duration, SystemTime};
use tokio::io::AsyncReadExt;

/// How long a credential process may run before it is killed.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest stderr excerpt quoted in an error, in characters.
const STDERR_EXCERPT: usize = 200;

/// The most stdout a credential process may print: a credentials document is well under 4 KiB.
const STDOUT_CAP: u64 = 64 * 1024;

/// The most stderr kept (the rest is read and dropped, so the process never blocks on it).
const STDERR_CAP: u64 = 16 * 1024;

/// Runs `command` for `profile` and parses its output.
///
/// Cancel safe: dropping the future kills the process.
pub(crate) async fn run(profile: &str, command: &str, timeout: Duration) -> Result<Credentials> {
    let mut cmd = shell(command);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(profile, "could not start credential_process").with_source(e))?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(fail(
            profile,
            "could not read the output of credential_process",
        ));
    };
    // stdout is read up to a cap (a process that prints without end is stopped, not
    // buffered); stderr is kept up to a cap and drained past it.
    let read_stdout = async {
        let mut out = Vec::new();
        (&mut stdout)
            .take(STDOUT_CAP + 1)
            .read_to_end(&mut out)
            .await?;
        if out.len() as u64 > STDOUT_CAP {
            return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, "cap"));
        }
        Ok(out)
    };
    let read_stderr = async {
        let mut err = Vec::new();
        (&mut stderr).take(STDERR_CAP).read_to_end(&mut err).await?;
        tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await?;
        Ok::<_, std::io::Error>(err)
    };
    // All three at once: a process blocked writing one pipe must not wait for the other.
    let work = async {
        match tokio::try_join!(read_stdout, read_stderr, child.wait()) {
            Ok(output) => Ok(Some(output)),
            Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => Ok(None),
            Err(e) => Err(e),
        }
    };
    // Dropping the child on any early return kills it (`kill_on_drop`).
    let (stdout, stderr, status) = match tokio::time::timeout(timeout, work).await {
        Ok(Ok(Some(output))) => output,
        Ok(Ok(None)) => {
            return Err(fail(
                profile,
                format_args!(
                    "credential_process printed more than {} KiB and was killed",
                    STDOUT_CAP / 1024
                ),
            ));
        }
        Ok(Err(e)) => {
            return Err(
                fail(profile, "could not read the output of credential_process").with_source(e),
            );
        }
        Err(_) => {
            return Err(fail(
                profile,
                format_args!(
                    "credential_process did not finish within {} s and was killed",
                    timeout.as_secs_f32()
                ),
            ));
        }
    };
    let output = std::process::Output {
        status,
        stdout,
        stderr,
    };
    if !output.status.success() {
        let mut message = format!("credential_process failed ({})", output.status);
        if let Some(line) = first_line(&output.stderr) {
            message.push_str(": ");
            message.push_str(&line);
        }
        return Err(fail(profile, message));
    }
    parse_output(profile, &output.stdout)
}

#[cfg(not(windows))]
fn shell(command: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c").arg(command);
    cmd
}

#[cfg(windows)]
fn shell(command: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("cmd");
    // `cmd` does its own parsing; hand it the line as written in the profile.
    cmd.arg("/C").raw_arg(command);
    cmd
}

/// The first non-empty line of stderr, trimmed and shortened.
fn first_line(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut excerpt: String = line.chars().take(STDERR_EXCERPT).collect();
    if line.chars().nth(STDERR_EXCERPT).is_some() {
        excerpt.push('…');
    }
    Some(excerpt)
}

/// Reads the JSON document a credential process prints. Error messages name fields, never
/// their values (except `Version` and `Expiration`, which are not secret).
pub(crate) fn parse_output(profile: &str, stdout: &[u8]) -> Result<Credentials> {
    let bad = |what: &str| fail(profile, format_args!("credential_process output {what}"));
    let value: Value = serde_json::from_slice(stdout).map_err(|e| {
        bad(&format!(
            "is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(doc) = value else {
        return Err(bad("is not a JSON object"));
    };
    match doc.get("Version") {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(Value::Number(n)) => {
            return Err(bad(&format!(
                "has Version {n}; only Version 1 is supported"
            )));
        }
        Some(_) => return Err(bad("has a Version that is not a number")),
        None => return Err(bad("has no Version (expected 1)")),
    }
    let required = |name: &str| match optional_string(&doc, name) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(bad(&format!("has no {name}"))),
        Err(()) => Err(bad(&format!("has a {name} that is not a string"))),
    };
    let access_key_id = required("AccessKeyId")?;
    let secret = required("SecretAccessKey")?;
    let token = optional_string(&doc, "SessionToken")
        .map_err(|()| bad("has a SessionToken that is not a string"))?;
    let expiry = match optional_string(&doc, "Expiration") {
        Ok(Some(text)) => Some(parse_expiration(text).ok_or_else(|| {
            let shown: String = text.chars().take(64).collect();
            bad(&format!(
                "has an Expiration {shown:?} that is not an RFC 3339 time"
            ))
        })?),
        Ok(None) => None,
        Err(()) => return Err(bad("has an Expiration that is not a string")),
    };

    let mut creds = Credentials::new(access_key_id, secret);
    if let Some(token) = token {
        creds = creds.with_session_token(token);
    }
    if let Some(expiry) = expiry {
        creds = creds.with_expiry(expiry);
    }
    Ok(creds)
}

/// `Ok(None)` when absent, null or empty; `Err(())` when not a string.
fn optional_string<'a>(doc: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ()> {
    match doc.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(()),
    }
}

fn parse_expiration(text: &str) -> Option<SystemTime> {
    crate::credentials::parse_rfc3339(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use time::{OffsetDateTime, format_description::well_known::Rfc3339};

    const SECRET: &str = "SECRETCANARYprocess";

    fn parse(json: &str) -> Result<Credentials> {
        parse_output("dev", json.as_bytes())
    }

    fn message(json: &str) -> String {
        let e = parse(json).expect_err("should fail");
        assert_eq!(e.kind(), ErrorKind::Credentials);
        let text = format!("{e} {e:?}");
        assert!(!text.contains(SECRET), "secret in {text}");
        assert!(
            text.contains("profile \"dev\": credential_process"),
            "{text}"
        );
        text
    }

    #[test]
    fn full_document() {
        let c = parse(&format!(
            r#"{{"Version": 1, "AccessKeyId": "AKID", "SecretAccessKey": "{SECRET}",
                "SessionToken": "TOKEN", "Expiration": "2030-01-02T03:04:05Z"}}"#
        ))
        .unwrap();
        assert_eq!(c.access_key_id(), "AKID");
        assert_eq!(c.secret_access_key(), SECRET);
        assert_eq!(c.session_token(), Some("TOKEN"));
        let expected = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_553_445);
        assert_eq!(c.expiry(), Some(expected));
    }

    #[test]
    fn expiration_with_offset_and_fraction() {
        let c = parse(
            r#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S",
               "Expiration":"2030-01-02T05:04:05.5+02:00"}"#,
        )
        .unwrap();
        let expected = SystemTime::UNIX_EPOCH + Duration::from_millis(1_893_553_445_500);
        assert_eq!(c.expiry(), Some(expected));
        assert_eq!(c.session_token(), None);
    }

    /// An Expiration past year 9999 (here by its offset) is refused, not kept to panic later.
    #[test]
    fn an_expiration_past_year_9999_is_refused() {
        let e = message(
            r#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S",
               "Expiration":"9999-12-31T23:59:59-01:00"}"#,
        );
        assert!(e.contains("is not an RFC 3339 time"), "{e}");
    }

    #[test]
    fn minimal_document_has_no_expiry() {
        let c =
            parse(r#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","SessionToken":null}"#)
                .unwrap();
        assert_eq!(c.expiry(), None);
        assert_eq!(c.session_token(), None);
    }

    #[test]
    fn bad_documents_are_named_without_values() {
        let m = message(&format!(r#"{{"Version":1,"SecretAccessKey":"{SECRET}" "#));
        assert!(m.contains("not valid JSON"), "{m}");
        let m = message(&format!("{SECRET} plain text"));
        assert!(m.contains("not valid JSON"), "{m}");
        let m = message(&format!(r#"["{SECRET}"]"#));
        assert!(m.contains("not a JSON object"), "{m}");
        let m = message(&format!(
            r#"{{"Version":2,"AccessKeyId":"A","SecretAccessKey":"{SECRET}"}}"#
        ));
        assert!(m.contains("Version 2"), "{m}");
        let m = message(&format!(
            r#"{{"Version":"1","AccessKeyId":"A","SecretAccessKey":"{SECRET}"}}"#
        ));
        assert!(m.contains("Version that is not a number"), "{m}");
        let m = message(&format!(
            r#"{{"AccessKeyId":"A","SecretAccessKey":"{SECRET}"}}"#
        ));
        assert!(m.contains("no Version"), "{m}");
        let m = message(&format!(r#"{{"Version":1,"SecretAccessKey":"{SECRET}"}}"#));
        assert!(m.contains("no AccessKeyId"), "{m}");
        let m = message(r#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":""}"#);
        assert!(m.contains("no SecretAccessKey"), "{m}");
        let m = message(&format!(
            r#"{{"Version":1,"AccessKeyId":["{SECRET}"],"SecretAccessKey":"{SECRET}"}}"#
        ));
        assert!(m.contains("AccessKeyId that is not a string"), "{m}");
        let m = message(&format!(
            r#"{{"Version":1,"AccessKeyId":"A","SecretAccessKey":"{SECRET}","SessionToken":7}}"#
        ));
        assert!(m.contains("SessionToken that is not a string"), "{m}");
        let m = message(&format!(
            r#"{{"Version":1,"AccessKeyId":"A","SecretAccessKey":"{SECRET}","Expiration":"tomorrow"}}"#
        ));
        assert!(
            m.contains("\"tomorrow\" that is not an RFC 3339 time"),
            "{m}"
        );
    }

    #[test]
    fn stderr_excerpt_is_one_short_line() {
        assert_eq!(first_line(b"\n  first  \nsecond"), Some("first".to_owned()));
        assert_eq!(first_line(b""), None);
        let long = "x".repeat(500);
        let got = first_line(long.as_bytes()).unwrap();
        assert_eq!(got.chars().count(), STDERR_EXCERPT + 1);
        assert!(got.ends_with('…'));
        assert_eq!(first_line(&[0xff, b'a']), Some("\u{fffd}a".to_owned()));
    }

    #[cfg(unix)]
    mod unix {
        use super::*;

        #[tokio::test]
        async fn runs_through_the_shell() {
            let cmd = r#"printf '%s' '{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "S", "Expiration": "2030-01-02T03:04:05Z"}'"#;
            let c = run("dev", cmd, DEFAULT_TIMEOUT).await.unwrap();
            assert_eq!(c.access_key_id(), "AK");
            assert!(c.expiry().is_some());
        }

        #[tokio::test]
        async fn failure_quotes_stderr_not_stdout() {
            let cmd = format!("echo {SECRET}; echo 'token expired, run login' >&2; exit 3");
            let e = run("dev", &cmd, DEFAULT_TIMEOUT).await.unwrap_err();
            let text = format!("{e} {e:?}");
            assert!(
                text.contains("profile \"dev\": credential_process failed"),
                "{text}"
            );
            assert!(text.contains("exit status: 3"), "{text}");
            assert!(text.contains("token expired, run login"), "{text}");
            assert!(!text.contains(SECRET), "{text}");
        }

        #[tokio::test]
        async fn a_hung_process_is_killed_at_the_time_limit() {
            let started = std::time::Instant::now();
            let e = run("dev", "sleep 30", Duration::from_millis(200))
                .await
                .unwrap_err();
            assert!(started.elapsed() < Duration::from_secs(10));
            assert!(e.to_string().contains("did not finish within 0.2 s"), "{e}");
        }

        #[tokio::test]
        async fn endless_output_is_cut_off_not_buffered() {
            let e = run("dev", "yes SECRETCANARYprocess", Duration::from_secs(20))
                .await
                .unwrap_err();
            let text = format!("{e} {e:?}");
            assert!(text.contains("printed more than 64 KiB"), "{text}");
            assert!(!text.contains(SECRET), "{text}");
            // A chatty stderr is drained, not a reason to hang.
            let cmd = r#"head -c 1000000 /dev/zero >&2; printf '%s' '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S"}'"#;
            let c = run("dev", cmd, Duration::from_secs(20)).await.unwrap();
            assert_eq!(c.access_key_id(), "A");
        }

        #[tokio::test]
        async fn a_missing_program_is_a_failure() {
            let e = run("dev", "/nonexistent/credential-helper", DEFAULT_TIMEOUT)
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Credentials);
            assert!(e.to_string().contains("exit status: 127"), "{e}");
        }
    }

    mod properties {
        use super::*;
        use crate::credentials::json_strategy::{CANARY, document};
        use proptest::prelude::*;

        const FIELDS: &[&str] = &[
            "Version",
            "AccessKeyId",
            "SecretAccessKey",
            "SessionToken",
            "Expiration",
            "Other",
        ];

        /// A time RFC 3339 can write: years 1970 to 9999, whole seconds.
        fn expiry() -> impl Strategy<Value = SystemTime> {
            (0u64..253_402_300_800).prop_map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
        }

        fn rfc3339(t: SystemTime) -> String {
            OffsetDateTime::from(t).format(&Rfc3339).unwrap()
        }

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
                let _ = parse_output("p", &bytes);
            }

            /// Documents of every shape: no panic, and an error never quotes a secret.
            #[test]
            fn errors_never_quote_a_secret(doc in document(FIELDS, &["SecretAccessKey", "SessionToken"])) {
                if let Err(e) = parse_output("p", &doc) {
                    let text = format!("{e} {e:?}");
                    prop_assert!(!text.contains(CANARY), "{}", text);
                }
            }

            /// What a credential process writes is what the provider reads.
            #[test]
            fn written_documents_read_back(
                id in "[A-Z0-9]{16,20}",
                secret in "[A-Za-z0-9/+]{1,40}",
                token in proptest::option::of("[A-Za-z0-9/+=]{1,60}"),
                expiry in proptest::option::of(expiry()),
            ) {
                let mut doc = serde_json::json!({
                    "Version": 1, "AccessKeyId": id, "SecretAccessKey": secret,
                });
                if let Some(t) = &token {
                    doc["SessionToken"] = t.clone().into();
                }
                if let Some(e) = expiry {
                    doc["Expiration"] = rfc3339(e).into();
                }
                let c = parse_output("p", doc.to_string().as_bytes()).unwrap();
                prop_assert_eq!(c.access_key_id(), id.as_str());
                prop_assert_eq!(c.secret_access_key(), secret.as_str());
                prop_assert_eq!(c.session_token(), token.as_deref());
                prop_assert_eq!(c.expiry(), expiry);
            }
        }
    }
}
