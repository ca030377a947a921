//! What is secret: the one decision every output path asks.
//!
//! A piece of text is secret when it is
//! - a value that came from a secret place (credentials.toml, a secret config key or a key
//!   that looks like one, a provider key variable, `--set` of a secret key): such values are
//!   [`register`]ed by the loader and the resolver and found again wherever they appear;
//! - a word with a provider key's shape (built-in prefixes plus the catalog's `key_shapes`,
//!   [`register_shapes`]) followed by at least [`MIN_SHAPED_TAIL`] key characters;
//! - a high-entropy word: a run of letters and digits of [`MIN_ENTROPY_RUN`]+ characters
//!   mixing both (hex tokens, base64, random ids) — hashes named as such (`sha256:…`) excepted;
//! - the userinfo of a URL (`https://user:PASSWORD@host`, `https://TOKEN@host`).
//!
//! [`secret_ranges`] returns where, as byte ranges; the sink (`secrets::sink`) masks them.

use std::ops::Range;
use std::sync::RwLock;

/// Registered values shorter than this are not searched for in output: a 3-letter
/// "secret" would mask ordinary words.
pub const MIN_REGISTERED_LEN: usize = 6;
/// Characters a shaped key needs after its prefix (`sk-` + 12) to count as a key, so
/// that prose such as `sk-…` or `sk-kimi-` (the shape alone) stays readable.
pub const MIN_SHAPED_TAIL: usize = 12;
/// Length of the letter-and-digit run (split at `-`, `_`, `.`, `/`) that makes a word
/// high-entropy. Version strings, dates, UUIDs and backup ids have shorter runs.
pub const MIN_ENTROPY_RUN: usize = 16;

/// Built-in key prefixes; the catalog adds its own. Kept here (not only in the catalog)
/// because masking must work even when the catalog fails to load.
const BUILTIN_SHAPES: &[&str] = &[
    "sk-",
    "gsk_",
    "xai-",
    "AIza",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "hf_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "AKIA",
    "pk_live_",
    "rk_live_",
    "sk_live_",
];

static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());
static SHAPES: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remember a value that came from a secret place, so that every later output masks it
/// wherever it appears (an origin label, an excerpt, an error title). References
/// (`cred:…`, `${VAR}`) and short values are not secrets and are ignored.
pub fn register(value: &str) {
    let v = value.trim();
    if v.len() < MIN_REGISTERED_LEN || v.starts_with("cred:") || v.starts_with("${") {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == v) {
        known.push(v.to_string());
        // Longest first, so a secret containing another is masked whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// Add key prefixes (the catalog's `key_shapes`) to the built-in ones.
pub fn register_shapes<'a>(prefixes: impl IntoIterator<Item = &'a str>) {
    let mut shapes = SHAPES.write().unwrap_or_else(|e| e.into_inner());
    for p in prefixes {
        if p.len() >= 3 && !shapes.iter().any(|s| s == p) && !BUILTIN_SHAPES.contains(&p) {
            shapes.push(p.to_string());
        }
    }
}

/// Whether one word (no whitespace) is a secret by itself: a registered value, a shaped
/// key or a high-entropy token. The one predicate behind `mask::looks_secret`.
pub fn is_secret_word(word: &str) -> bool {
    let w = word.trim();
    !w.is_empty()
        && (KNOWN
            .read()
            .map(|k| k.iter().any(|s| s == w))
            .unwrap_or(false)
            || shaped(w)
            || high_entropy(w))
}

/// Names of keys, variables or headers whose values are secrets (`api_key`, `apiKey`,
/// `apikey`, `X-Api-Key`, `Authorization`, `GATEWAY_TOKEN`, `password`, …).
pub fn is_sensitive_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "AUTHORIZATION",
        "COOKIE",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| n.contains(w))
        // `key_shapes`, `keys`, `keyboard`… are not secrets; names that merely *end* in
        // a word like `monkey` are rare enough to accept.
        && !matches!(n.as_str(), "KEY_SHAPES" | "NOT_KEY_SHAPES" | "KEYS")
}

fn shaped(w: &str) -> bool {
    let tail_ok = |p: &str| {
        w.strip_prefix(p).is_some_and(|t| {
            t.len() >= MIN_SHAPED_TAIL
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    BUILTIN_SHAPES.iter().any(|p| tail_ok(p))
        || SHAPES
            .read()
            .map(|s| s.iter().any(|p| tail_ok(p)))
            .unwrap_or(false)
}

fn high_entropy(w: &str) -> bool {
    w.split(['-', '_', '.', '/', '+', '=', '~']).any(|run| {
        run.len() >= MIN_ENTROPY_RUN
            && run.bytes().all(|b| b.is_ascii_alphanumeric())
            && run.bytes().filter(u8::is_ascii_digit).count() >= 2
            && run.bytes().filter(u8::is_ascii_alphabetic).count() >= 4
    })
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'=' | b'.' | b'/' | b'~')
}

/// Where the secrets in `text` are, as sorted, non-overlapping byte ranges.
pub fn secret_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    if let Ok(known) = KNOWN.read() {
        for k in known.iter() {
            ranges.extend(text.match_indices(k.as_str()).map(|(i, s)| i..i + s.len()));
        }
    }
    url_userinfo(text, &mut ranges);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_word_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_word_byte(bytes[i]) {
            i += 1;
        }
        // Sentence punctuation is not part of a word.
        let word = text[start..i].trim_end_matches('.');
        if word.is_empty() {
            continue;
        }
        let hash_label = text[..start].ends_with("sha256:") || text[..start].ends_with("sha256=");
        if shaped(word) || (!hash_label && high_entropy(word)) {
            let keep = shape_len(word);
            ranges.push(start + keep..start + word.len());
        }
    }
    merge(ranges)
}

/// The visible prefix of a shaped key (`sk-kimi-`), 0 when it has none.
fn shape_len(word: &str) -> usize {
    let catalog = SHAPES.read().map(|s| s.clone()).unwrap_or_default();
    BUILTIN_SHAPES
        .iter()
        .copied()
        .chain(catalog.iter().map(String::as_str))
        .chain(crate::secrets::mask::shape(word))
        .filter(|p| word.starts_with(p) && word.len() > p.len() + MIN_SHAPED_TAIL)
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// `scheme://user:PASS@host` → the password; `scheme://TOKEN@host` → the token.
fn url_userinfo(text: &str, ranges: &mut Vec<Range<usize>>) {
    for (i, _) in text.match_indices("://") {
        let start = i + 3;
        let rest = &text[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || "/?#\"'<>`,;)]}".contains(c))
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        if let Some(at) = authority.rfind('@') {
            let info = &authority[..at];
            let from = info.find(':').map(|c| c + 1).unwrap_or(0);
            if at > from {
                ranges.push(start + from..start + at);
            }
        }
    }
}

fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shaped_keys_and_tokens_are_found() {
        let t = "api_key = sk-CNRYunquoted0123456789abcdefghijklmnopq # x";
        let r = secret_ranges(t);
        assert_eq!(r.len(), 1);
        assert_eq!(&t[r[0].clone()], "CNRYunquoted0123456789abcdefghijklmnopq");
        let hex = "token 3c2a7b1d8e4f60a5b7c9d1e3f5a7b9c13c2a7b1d8e4f60a5b7c9d1e3f5a7b9c1.";
        assert_eq!(secret_ranges(hex).len(), 1);
        assert!(is_secret_word(
            "c2stQ05SWWRvdGVudjAxMjM0NTY3ODlhYmNkZWZnaGlq=="
        ));
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for t in [
            "moonshot/kimi-k2.5 via https://api.moonshot.ai/v1",
            "sk-kimi-… (sha256:3f9a1c2e, 51 chars)",
            "backup 20261130T050116Z-config.toml",
            "/tmp/.tmpAbC123/home/.config/clawctl/config.toml:12:9",
            "CLAWCTL__AGENTS__DEFAULTS__MODEL__PRIMARY",
            "id 550e8400-e29b-41d4-a716-446655440000",
            "config sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ] {
            assert!(secret_ranges(t).is_empty(), "{t}: {:?}", secret_ranges(t));
        }
    }

    #[test]
    fn url_userinfo_is_found() {
        let t = "base https://proxyuser:hunter2@llm.example.com/v1 and https://tok@h/x";
        let r = secret_ranges(t);
        let found: Vec<&str> = r.iter().map(|r| &t[r.clone()]).collect();
        assert_eq!(found, ["hunter2", "tok"]);
    }

    #[test]
    fn registered_values_are_found_anywhere() {
        register("plainpassword");
        let t = "origin: command line:--set x.api_key=plainpassword";
        let r = secret_ranges(t);
        assert_eq!(&t[r[0].clone()], "plainpassword");
    }
}
