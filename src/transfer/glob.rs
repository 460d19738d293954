//! The include and exclude filters of directory uploads and syncs: small glob patterns over
//! `/`-separated relative paths.
//!
//! `*` matches any run of characters within one segment, `**` any run including `/` (and
//! `**/` also no segment at all), `?` one character other than `/`; every other character
//! matches itself. A pattern without `/` is matched against the file name only, at any depth
//! (`*.jpg`); a pattern with `/` against the whole relative path (`raw/**/*.cr2`). Matching
//! is linear in pattern × path (a table of states already tried), so no pattern is slow.

/// Include and exclude patterns: a path is taken when it matches an include (or there are
/// none) and no exclude.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filters {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Filters {
    pub(crate) fn include(&mut self, pattern: String) {
        self.include.push(pattern);
    }

    pub(crate) fn exclude(&mut self, pattern: String) {
        self.exclude.push(pattern);
    }

    /// Whether the relative path `rel` (`/`-separated) passes the filters.
    pub(crate) fn accepts(&self, rel: &str) -> bool {
        let hit = |p: &String| matches(p, rel);
        (self.include.is_empty() || self.include.iter().any(hit)) && !self.exclude.iter().any(hit)
    }
}

/// Whether `pattern` matches `rel` (see the module documentation).
pub(crate) fn matches(pattern: &str, rel: &str) -> bool {
    let subject = if pattern.contains('/') {
        rel
    } else {
        rel.rsplit('/').next().unwrap_or(rel)
    };
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = subject.chars().collect();
    let mut failed = vec![false; (p.len() + 1) * (s.len() + 1)];
    step(&p, &s, 0, 0, &mut failed)
}

/// Matches `p[pi..]` against `s[si..]`; `failed` remembers the pairs that did not match.
fn step(p: &[char], s: &[char], pi: usize, si: usize, failed: &mut [bool]) -> bool {
    let idx = pi * (s.len() + 1) + si;
    if failed[idx] {
        return false;
    }
    let ok = match p.get(pi) {
        None => si == s.len(),
        Some('*') if p.get(pi + 1) == Some(&'*') => {
            let rest = pi + 2;
            // `**/` may stand for no directory at all.
            (p.get(rest) == Some(&'/') && step(p, s, rest + 1, si, failed))
                || (si..=s.len()).any(|i| step(p, s, rest, i, failed))
        }
        Some('*') => {
            let end = s[si..]
                .iter()
                .position(|c| *c == '/')
                .map_or(s.len(), |n| si + n);
            (si..=end).any(|i| step(p, s, pi + 1, i, failed))
        }
        Some('?') => s.get(si).is_some_and(|c| *c != '/') && step(p, s, pi + 1, si + 1, failed),
        Some(c) => s.get(si) == Some(c) && step(p, s, pi + 1, si + 1, failed),
    };
    if !ok {
        failed[idx] = true;
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let yes = [
            ("*.jpg", "a.jpg"),
            ("*.jpg", "x/y/a.jpg"),
            ("a?c", "d/abc"),
            ("raw/*.cr2", "raw/1.cr2"),
            ("raw/**/*.cr2", "raw/1.cr2"),
            ("raw/**/*.cr2", "raw/a/b/1.cr2"),
            ("**/.git/**", ".git/config"),
            ("**", "any/thing"),
            ("ünï/*", "ünï/ß"),
        ];
        for (p, s) in yes {
            assert!(matches(p, s), "{p} should match {s}");
        }
        let no = [
            ("*.jpg", "a.jpeg"),
            ("raw/*.cr2", "raw/a/1.cr2"),
            ("raw/*.cr2", "x/raw/1.cr2"),
            ("a?c", "ac"),
            ("a/?", "a/b/c"),
            ("**/.git/**", "x.git/y"),
        ];
        for (p, s) in no {
            assert!(!matches(p, s), "{p} should not match {s}");
        }
    }

    #[test]
    fn filters_take_includes_then_drop_excludes() {
        let mut f = Filters::default();
        assert!(f.accepts("anything"));
        f.include("*.txt".into());
        f.exclude("tmp/**".into());
        assert!(f.accepts("a/b.txt"));
        assert!(!f.accepts("a/b.bin"));
        assert!(!f.accepts("tmp/b.txt"));
    }

    #[test]
    fn no_pattern_is_slow() {
        let p = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let s = "a".repeat(200);
        let t = std::time::Instant::now();
        assert!(!matches(p, &s));
        // A backtracking matcher takes far longer than a minute here; the bound is generous
        // so a loaded machine cannot fail it.
        assert!(t.elapsed() < std::time::Duration::from_secs(60));
    }
}
