//! The shared `config` and `credentials` files: a pure, line-based parser and the merge of
//! the two files into one set of profiles.
//!
//! The rules, taken from the AWS CLI and SDK documentation of the shared files and written
//! down here because they decide what a user's file means:
//!
//! - A line whose first non-blank character is `#` or `;` is a comment. Inside a value, `#`
//!   and `;` are ordinary characters (`key = a#b ;c` has the value `a#b ;c`), as in the AWS
//!   CLI, whose INI reader has no inline comments; a section header may be followed by a
//!   comment (`[profile dev] # laptop`).
//! - Sections: in the credentials file `[name]` is profile `name`. In the config file
//!   `[profile name]` is profile `name` and `[default]` is profile `default`; when both
//!   `[default]` and `[profile default]` appear, `[profile default]` wins. `[services name]`
//!   and `[sso-session name]` are kept apart; any other section of the config file is
//!   ignored. Profile names are case-sensitive.
//! - `key = value`, split at the first `=`, both sides trimmed. Keys are ASCII-lowercased
//!   (the AWS CLI folds setting names); values keep their case and inner spaces; quotes are
//!   not removed. A later duplicate key overrides an earlier one, also across repeated
//!   sections of the same name.
//! - A line indented deeper than the setting above it belongs to that setting: when the
//!   setting's value is empty it opens a sub-section (`s3 =` then `  addressing_style =
//!   path`); otherwise the line continues the value (joined with `\n`). A file whose settings
//!   are all indented alike is read as if none were.
//! - Lines that fit none of these (no `=`, a setting before any section, an unclosed `[`)
//!   are skipped and their line numbers kept for error messages. A malformed header starts
//!   an ignored section, so the settings below it never land in the profile above.
//! - Values from the credentials file override the config file's, key by key, for the same
//!   profile.

use std::collections::BTreeMap;

/// Which of the two shared files a text came from; they name profile sections differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// `~/.aws/config`: `[profile name]`, `[default]`, `[services x]`, `[sso-session x]`.
    Config,
    /// `~/.aws/credentials`: `[name]`.
    Credentials,
}

/// The settings of one section: plain values and sub-sections (`s3 =` + indented lines).
///
/// No `Debug`: values hold secrets.
#[derive(Default, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    values: BTreeMap<String, String>,
    subsections: BTreeMap<String, BTreeMap<String, String>>,
}

impl Section {
    /// The value of `key` (lowercase), if present and not empty.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The value of `sub_key` in the sub-section `key`, if present and not empty.
    pub(crate) fn sub(&self, key: &str, sub_key: &str) -> Option<&str> {
        self.subsections
            .get(key)?
            .get(sub_key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn set(&mut self, key: String, value: String) {
        self.subsections.remove(&key);
        self.values.insert(key, value);
    }

    /// Key by key, `other`'s settings override this section's.
    fn overlay(&mut self, other: Section) {
        for (k, v) in other.values {
            self.subsections.remove(&k);
            self.values.insert(k, v);
        }
        for (k, sub) in other.subsections {
            self.subsections.insert(k, sub);
        }
    }
}

/// One parsed file.
#[derive(Default)]
pub(crate) struct ParsedFile {
    pub(crate) profiles: BTreeMap<String, Section>,
    pub(crate) services: BTreeMap<String, Section>,
    pub(crate) sso_sessions: BTreeMap<String, Section>,
    /// 1-based numbers of the lines that were skipped as malformed.
    pub(crate) skipped_lines: Vec<usize>,
}

/// Where the lines under the current header go.
enum Target {
    /// Before the first header: settings here are malformed.
    Start,
    /// An ignored section (unknown kind, or a malformed header).
    Ignored,
    Profile(String),
    /// `[default]` in the config file, which `[profile default]` outranks.
    BareDefault,
    Services(String),
    SsoSession(String),
}

/// Parses the text of one shared file. Never fails and never panics: what it cannot read is
/// skipped and counted in [`ParsedFile::skipped_lines`].
pub(crate) fn parse(text: &str, kind: FileKind) -> ParsedFile {
    let mut out = ParsedFile::default();
    let mut bare_default: Option<Section> = None;
    let mut target = Target::Start;
    // The last setting read in this section, with its indentation: deeper lines belong to it.
    let mut last: Option<(String, usize)> = None;

    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let content = line.trim();
        if content.is_empty() || content.starts_with('#') || content.starts_with(';') {
            continue;
        }
        if content.starts_with('[') {
            last = None;
            target = match header(content, kind) {
                Some(t) => t,
                None => {
                    out.skipped_lines.push(number);
                    Target::Ignored
                }
            };
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let section = match &target {
            Target::Start => {
                out.skipped_lines.push(number);
                continue;
            }
            Target::Ignored => continue,
            Target::Profile(name) => out.profiles.entry(name.clone()).or_default(),
            Target::BareDefault => bare_default.get_or_insert_with(Section::default),
            Target::Services(name) => out.services.entry(name.clone()).or_default(),
            Target::SsoSession(name) => out.sso_sessions.entry(name.clone()).or_default(),
        };
        if let Some((key, key_indent)) = &last
            && indent > *key_indent
        {
            let parent = section.values.get(key).is_none_or(String::is_empty)
                || section.subsections.contains_key(key);
            if parent {
                match split_setting(content) {
                    Some((sub_key, value)) => {
                        section
                            .subsections
                            .entry(key.clone())
                            .or_default()
                            .insert(sub_key, value);
                    }
                    None => out.skipped_lines.push(number),
                }
            } else if let Some(value) = section.values.get_mut(key) {
                value.push('\n');
                value.push_str(content);
            }
            continue;
        }
        match split_setting(content) {
            Some((key, value)) => {
                section.set(key.clone(), value);
                last = Some((key, indent));
            }
            None => {
                out.skipped_lines.push(number);
                last = None;
            }
        }
    }

    if let Some(default) = bare_default {
        out.profiles.entry("default".to_owned()).or_insert(default);
    }
    out
}

/// Reads a header line (already trimmed, starting with `[`). `None` when malformed.
fn header(content: &str, kind: FileKind) -> Option<Target> {
    let (inside, rest) = content.strip_prefix('[')?.split_once(']')?;
    let rest = rest.trim_start();
    if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
        return None;
    }
    let name = inside.trim();
    if name.is_empty() {
        return None;
    }
    if kind == FileKind::Credentials {
        return Some(Target::Profile(name.to_owned()));
    }
    if name == "default" {
        return Some(Target::BareDefault);
    }
    let Some((prefix, rest)) = name.split_once(|c: char| c.is_whitespace()) else {
        // `[profile]` names no profile; `[plugins]` is a section this crate does not read.
        return match name {
            "profile" | "services" | "sso-session" => None,
            _ => Some(Target::Ignored),
        };
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return None;
    }
    Some(match prefix {
        "profile" => Target::Profile(rest.to_owned()),
        "services" => Target::Services(rest.to_owned()),
        "sso-session" => Target::SsoSession(rest.to_owned()),
        _ => Target::Ignored,
    })
}

/// `key = value` → (lowercased key, trimmed value). `None` without `=` or with an empty key.
fn split_setting(content: &str) -> Option<(String, String)> {
    let (key, value) = content.split_once('=')?;
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    Some((key.to_ascii_lowercase(), value.trim().to_owned()))
}

/// The profiles of both files, merged.
#[derive(Default)]
pub(crate) struct ProfileSet {
    profiles: BTreeMap<String, Section>,
    services: BTreeMap<String, Section>,
    sso_sessions: BTreeMap<String, Section>,
    /// Skipped malformed lines: (file, 1-based line number).
    pub(crate) skipped: Vec<(FileKind, usize)>,
}

impl ProfileSet {
    /// Merges the two files; the credentials file's values win for the same profile.
    pub(crate) fn merge(config: ParsedFile, credentials: ParsedFile) -> Self {
        let mut set = ProfileSet::default();
        for (file, kind) in [
            (config, FileKind::Config),
            (credentials, FileKind::Credentials),
        ] {
            for (name, section) in file.profiles {
                set.profiles.entry(name).or_default().overlay(section);
            }
            for (name, section) in file.services {
                set.services.entry(name).or_default().overlay(section);
            }
            for (name, section) in file.sso_sessions {
                set.sso_sessions.entry(name).or_default().overlay(section);
            }
            set.skipped
                .extend(file.skipped_lines.into_iter().map(|n| (kind, n)));
        }
        set
    }

    /// The profile called `name`.
    pub(crate) fn profile(&self, name: &str) -> Option<&Section> {
        self.profiles.get(name)
    }

    /// The names of all profiles.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn profile_names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    /// The `[services name]` section.
    pub(crate) fn services(&self, name: &str) -> Option<&Section> {
        self.services.get(name)
    }

    /// The `[sso-session name]` section.
    pub(crate) fn sso_session(&self, name: &str) -> Option<&Section> {
        self.sso_sessions.get(name)
    }

    /// `" (skipped malformed lines: config 3, credentials 7)"`, or `""` when none were.
    /// Only line numbers, never line content, which may hold a secret.
    pub(crate) fn skipped_note(&self) -> String {
        if self.skipped.is_empty() {
            return String::new();
        }
        let list: Vec<String> = self
            .skipped
            .iter()
            .take(10)
            .map(|(kind, n)| match kind {
                FileKind::Config => format!("config {n}"),
                FileKind::Credentials => format!("credentials {n}"),
            })
            .collect();
        let more = if self.skipped.len() > 10 { ", …" } else { "" };
        format!(" (skipped malformed lines: {}{more})", list.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn creds(text: &str) -> ParsedFile {
        parse(text, FileKind::Credentials)
    }

    fn config(text: &str) -> ParsedFile {
        parse(text, FileKind::Config)
    }

    fn get<'a>(file: &'a ParsedFile, profile: &str, key: &str) -> Option<&'a str> {
        file.profiles.get(profile)?.get(key)
    }

    #[test]
    fn credentials_file_sections_are_plain_names() {
        let f = creds("[default]\naws_access_key_id = A\n[dev]\naws_access_key_id=B\n");
        assert_eq!(get(&f, "default", "aws_access_key_id"), Some("A"));
        assert_eq!(get(&f, "dev", "aws_access_key_id"), Some("B"));
        assert!(f.skipped_lines.is_empty());
    }

    #[test]
    fn config_file_needs_the_profile_prefix() {
        let f = config(
            "[dev]\nregion = a\n[profile dev]\nregion = b\n[default]\nregion = c\n\
             [profile\tspaced  name ]\nregion = d\n[profile]\nregion = e\n",
        );
        assert_eq!(get(&f, "dev", "region"), Some("b"));
        assert_eq!(get(&f, "default", "region"), Some("c"));
        assert_eq!(get(&f, "spaced  name", "region"), Some("d"));
        assert_eq!(f.profiles.len(), 3);
        // `[profile]` has no name: malformed, and its setting is not attributed elsewhere.
        assert_eq!(f.skipped_lines, vec![9]);
    }

    #[test]
    fn profile_default_outranks_bare_default() {
        let f = config("[profile default]\nregion = a\n[default]\nregion = b\noutput = json\n");
        assert_eq!(get(&f, "default", "region"), Some("a"));
        assert_eq!(get(&f, "default", "output"), None);
        let f = config("[default]\nregion = b\n");
        assert_eq!(get(&f, "default", "region"), Some("b"));
    }

    #[test]
    fn credentials_file_takes_profile_prefix_literally() {
        let f = creds("[profile dev]\naws_access_key_id = A\n");
        assert_eq!(get(&f, "profile dev", "aws_access_key_id"), Some("A"));
        assert!(!f.profiles.contains_key("dev"));
    }

    #[test]
    fn services_and_sso_sessions_are_kept_apart() {
        let f = config(
            "[services my-services]\ns3 =\n  endpoint_url = http://localhost:9000\n\
             [sso-session corp]\nsso_region = eu-west-1\n[plugins]\nx = y\n",
        );
        assert!(f.profiles.is_empty());
        let s = &f.services["my-services"];
        assert_eq!(s.sub("s3", "endpoint_url"), Some("http://localhost:9000"));
        assert_eq!(f.sso_sessions["corp"].get("sso_region"), Some("eu-west-1"));
        assert!(f.skipped_lines.is_empty());
    }

    #[test]
    fn comments_blank_lines_and_spaces() {
        let text = "# top\n; also\n\n  [ default ]   # trailing\n\t# indented comment\n\
                    aws_access_key_id   =   A K  \n  ; x\nregion=eu-west-1\n";
        let f = creds(text);
        assert_eq!(get(&f, "default", "aws_access_key_id"), Some("A K"));
        assert_eq!(get(&f, "default", "region"), Some("eu-west-1"));
        assert!(f.skipped_lines.is_empty());
    }

    #[test]
    fn hash_and_semicolon_inside_values_are_kept() {
        let f = creds("[a]\ncredential_process = echo '#x' ;y # z\nk=v#w\n");
        assert_eq!(get(&f, "a", "credential_process"), Some("echo '#x' ;y # z"));
        assert_eq!(get(&f, "a", "k"), Some("v#w"));
    }

    #[test]
    fn crlf_line_endings() {
        let f =
            config("[profile dev]\r\nregion = eu-west-1\r\ns3 =\r\n  addressing_style = path\r\n");
        assert_eq!(get(&f, "dev", "region"), Some("eu-west-1"));
        assert_eq!(
            f.profiles["dev"].sub("s3", "addressing_style"),
            Some("path")
        );
    }

    #[test]
    fn keys_are_case_folded_values_are_not() {
        let f = creds("[Dev]\nAWS_Access_Key_ID = AbC\n");
        assert_eq!(get(&f, "Dev", "aws_access_key_id"), Some("AbC"));
        assert!(!f.profiles.contains_key("dev"));
    }

    #[test]
    fn sub_sections_by_indentation() {
        let f = config(
            "[profile dev]\ns3 =\n  addressing_style = path\n  max_concurrent_requests=4\n\
             \n    # comment inside\n  bad line\nregion = r\n",
        );
        let p = &f.profiles["dev"];
        assert_eq!(p.sub("s3", "addressing_style"), Some("path"));
        assert_eq!(p.sub("s3", "max_concurrent_requests"), Some("4"));
        assert_eq!(p.get("s3"), None);
        assert_eq!(p.get("region"), Some("r"));
        assert_eq!(f.skipped_lines, vec![7]);
    }

    #[test]
    fn uniformly_indented_settings_are_plain_settings() {
        let f = creds("[default]\n  aws_access_key_id = A\n  aws_secret_access_key = B\n");
        assert_eq!(get(&f, "default", "aws_access_key_id"), Some("A"));
        assert_eq!(get(&f, "default", "aws_secret_access_key"), Some("B"));
    }

    #[test]
    fn deeper_line_after_a_value_continues_it() {
        let f = config("[profile a]\nx = one\n  two\ny = 3\n");
        assert_eq!(get(&f, "a", "x"), Some("one\ntwo"));
        assert_eq!(get(&f, "a", "y"), Some("3"));
    }

    #[test]
    fn later_duplicates_override() {
        let f = creds("[a]\nk = 1\nk = 2\n[b]\nk = x\n[a]\nk = 3\nj = 4\n");
        assert_eq!(get(&f, "a", "k"), Some("3"));
        assert_eq!(get(&f, "a", "j"), Some("4"));
        assert_eq!(get(&f, "b", "k"), Some("x"));
        let f = config("[profile a]\ns3 =\n  a = 1\ns3 = flat\n");
        assert_eq!(f.profiles["a"].sub("s3", "a"), None);
        assert_eq!(get(&f, "a", "s3"), Some("flat"));
    }

    #[test]
    fn malformed_lines_are_skipped_with_their_numbers() {
        let text = "orphan = 1\n[a]\nno equals sign\n= empty key\n[unclosed\nk = hidden\n\
                    [b] trailing junk\nk2 = hidden\n[c]\nk = ok\n";
        let f = creds(text);
        assert_eq!(f.skipped_lines, vec![1, 3, 4, 5, 7]);
        assert!(f.profiles.get("a").is_none_or(|a| a.get("k").is_none()));
        assert!(!f.profiles.contains_key("b"));
        assert_eq!(get(&f, "c", "k"), Some("ok"));
    }

    #[test]
    fn unknown_keys_are_kept_and_empty_values_read_as_absent() {
        let f = creds("[a]\nfavourite_colour = blue\nregion =\n");
        assert_eq!(get(&f, "a", "favourite_colour"), Some("blue"));
        assert_eq!(get(&f, "a", "region"), None);
    }

    #[test]
    fn credentials_override_config_key_by_key() {
        let cfg = config(
            "[profile dev]\nregion = a\naws_access_key_id = CFG\ns3 =\n  addressing_style = path\n",
        );
        let cred = creds("[dev]\naws_access_key_id = CRED\n\n[only-creds]\nk = v\n");
        let set = ProfileSet::merge(cfg, cred);
        let dev = set.profile("dev").expect("dev");
        assert_eq!(dev.get("aws_access_key_id"), Some("CRED"));
        assert_eq!(dev.get("region"), Some("a"));
        assert_eq!(dev.sub("s3", "addressing_style"), Some("path"));
        assert!(set.profile("only-creds").is_some());
    }

    #[test]
    fn skipped_note_names_files_and_lines_only() {
        let set = ProfileSet::merge(
            config("junk SECRETCANARY\n"),
            creds("[a]\nmore SECRETCANARY\n"),
        );
        let note = set.skipped_note();
        assert_eq!(note, " (skipped malformed lines: config 1, credentials 2)");
        assert_eq!(ProfileSet::default().skipped_note(), "");
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let a = parse(&text, FileKind::Config);
            let b = parse(&text, FileKind::Credentials);
            let set = ProfileSet::merge(a, b);
            let _ = set.skipped_note();
        }

        #[test]
        fn ini_shaped_text_never_panics(lines in proptest::collection::vec(
            prop_oneof![
                Just("[default]".to_owned()),
                Just("[profile p]".to_owned()),
                Just("[services s]".to_owned()),
                Just("[".to_owned()),
                Just("]".to_owned()),
                Just("=".to_owned()),
                Just("s3 =".to_owned()),
                "[ \\t]{0,3}[a-z_=#;\\[\\] ]{0,12}",
                "\\PC{0,10}",
            ],
            0..30,
        )) {
            let text = lines.join("\n");
            let _ = parse(&text, FileKind::Config);
            let _ = parse(&text.replace('\n', "\r\n"), FileKind::Credentials);
        }

        #[test]
        fn written_settings_read_back(
            name in "[A-Za-z0-9_.-]{1,12}",
            key in "[a-z_][a-z0-9_]{0,12}",
            value in "[!-~]([ -~]{0,20}[!-~])?",
        ) {
            let text = format!("# written\n[profile {name}]\n{key} = {value}\n");
            let f = parse(&text, FileKind::Config);
            prop_assert_eq!(f.profiles.get(&name).and_then(|p| p.get(&key)), Some(value.as_str()));
            prop_assert!(f.skipped_lines.is_empty());
        }

        /// Profiles written to both files come back once each, under their own names, with
        /// the credentials file's value winning for a key set in both.
        #[test]
        fn profiles_of_both_files_merge(
            in_config in proptest::collection::btree_set("[A-Za-z0-9_.-]{1,10}", 0..5),
            in_credentials in proptest::collection::btree_set("[A-Za-z0-9_.-]{1,10}", 0..5),
        ) {
            let config: String = in_config
                .iter()
                .map(|n| format!("[profile {n}]\nregion = config-{n}\nk = c\n"))
                .collect();
            let credentials: String = in_credentials
                .iter()
                .map(|n| format!("[{n}]\nk = {n}\n"))
                .collect();
            let set = ProfileSet::merge(
                parse(&config, FileKind::Config),
                parse(&credentials, FileKind::Credentials),
            );
            let names: Vec<&str> = set.profile_names().collect();
            let expected: Vec<&str> = in_config
                .union(&in_credentials)
                .map(String::as_str)
                .collect();
            prop_assert_eq!(names, expected);
            for n in &in_config {
                let expected_region = format!("config-{n}");
                prop_assert_eq!(set.profile(n).and_then(|p| p.get("region")), Some(expected_region.as_str()));
            }
            for n in &in_credentials {
                prop_assert_eq!(set.profile(n).and_then(|p| p.get("k")), Some(n.as_str()));
            }
            prop_assert_eq!(set.skipped_note(), "");
        }
    }
}
