//! `$include` resolution, as OpenClaw does it (`src/config/includes.ts`, documented at
//! docs.openclaw.ai/gateway/configuration, "Split config into multiple files"):
//!
//! - `$include` may sit in any object, not only at the top level. Its value is one
//!   path or an array of paths, relative to the file that holds the directive.
//! - One file replaces the containing object; an array is deep-merged in order
//!   (later files win).
//! - Sibling keys beside `$include` are merged over the included content (the
//!   including file's own keys win); they require the included content to be an
//!   object.
//! - Deep merge: objects merge recursively, arrays concatenate, anything else: the
//!   later value wins.
//! - Includes nest at most 10 levels; a file that includes itself (directly or not)
//!   is an error naming the chain.
//!
//! OpenClaw also refuses includes outside the config's directory unless
//! `OPENCLAW_INCLUDE_ROOTS` allows them. An import cannot see that variable's value
//! on the old machine, so it follows such includes and warns instead of refusing.

use std::path::{Component, Path, PathBuf};

use super::json5::{Kind, Member, Node};
use super::{ImportError, ImportErrorKind, Importer};

pub(super) const INCLUDE_KEY: &str = "$include";
const MAX_INCLUDE_DEPTH: usize = 10;
/// Total `$include` expansions of one config. Includes form a DAG, and a DAG expanded
/// in full grows exponentially (7 files each including the next 10 times: 10^6
/// expansions); a real config has a handful.
pub(super) const MAX_INCLUDE_EXPANSIONS: usize = 256;

/// `a/./b/../c` → `a/c` without touching the file system (the file may not exist).
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The identity of a file for cycle detection: its real path when it exists.
pub(super) fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
}

/// OpenClaw's deepMerge: objects merge recursively, arrays concatenate, otherwise
/// `source` wins.
pub(super) fn deep_merge(target: Node, source: Node) -> Node {
    match (target.kind, source.kind) {
        (Kind::Array(mut a), Kind::Array(b)) => {
            a.extend(b);
            Node {
                kind: Kind::Array(a),
                span: source.span,
                file: source.file,
            }
        }
        (Kind::Object(mut members), Kind::Object(src)) => {
            for m in src {
                if let Some(existing) = members.iter_mut().find(|e| e.key == m.key) {
                    let old = std::mem::replace(
                        &mut existing.value,
                        Node {
                            kind: Kind::Null,
                            span: 0..0,
                            file: 0,
                        },
                    );
                    existing.value = deep_merge(old, m.value);
                } else {
                    members.push(m);
                }
            }
            Node {
                kind: Kind::Object(members),
                span: source.span,
                file: source.file,
            }
        }
        (_, kind) => Node {
            kind,
            span: source.span,
            file: source.file,
        },
    }
}

impl Importer<'_> {
    /// Replace every `$include` in `node` (read from the last file of `chain`).
    pub(super) fn resolve_includes(
        &mut self,
        node: Node,
        chain: &[PathBuf],
    ) -> Result<Node, ImportError> {
        match node.kind {
            Kind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.resolve_includes(item, chain)?);
                }
                Ok(Node {
                    kind: Kind::Array(out),
                    ..node
                })
            }
            Kind::Object(members) => {
                let mut directive: Option<Member> = None;
                let mut others = Vec::with_capacity(members.len());
                for m in members {
                    if m.key == INCLUDE_KEY {
                        directive = Some(m);
                    } else {
                        let value = self.resolve_includes(m.value, chain)?;
                        others.push(Member { value, ..m });
                    }
                }
                let Some(directive) = directive else {
                    return Ok(Node {
                        kind: Kind::Object(others),
                        ..node
                    });
                };
                let included = self.include_value(&directive.value, chain)?;
                if others.is_empty() {
                    return Ok(included);
                }
                if included.as_object().is_none() {
                    return Err(self.error_at(
                        ImportErrorKind::Include,
                        &directive.value,
                        format!(
                            "`$include` has sibling keys, but the included content is {}",
                            included.type_name()
                        ),
                        "included content that is an object, so the sibling keys can be merged over it",
                    ));
                }
                Ok(deep_merge(
                    included,
                    Node {
                        kind: Kind::Object(others),
                        ..node
                    },
                ))
            }
            _ => Ok(node),
        }
    }

    fn include_value(&mut self, value: &Node, chain: &[PathBuf]) -> Result<Node, ImportError> {
        match &value.kind {
            Kind::String(p) => self.include_file(p, value, chain),
            Kind::Array(items) => {
                let mut merged = Node {
                    kind: Kind::Object(Vec::new()),
                    span: value.span.clone(),
                    file: value.file,
                };
                for item in items {
                    let Some(p) = item.as_str() else {
                        return Err(self.error_at(
                            ImportErrorKind::Include,
                            item,
                            format!("an `$include` array holds {}", item.type_name()),
                            "a path to a file, in quotes",
                        ));
                    };
                    let loaded = self.include_file(p, item, chain)?;
                    merged = deep_merge(merged, loaded);
                }
                Ok(merged)
            }
            _ => Err(self.error_at(
                ImportErrorKind::Include,
                value,
                format!("`$include` is {}", value.type_name()),
                "a path to a file, or an array of paths",
            )),
        }
    }

    fn include_file(
        &mut self,
        relative: &str,
        at: &Node,
        chain: &[PathBuf],
    ) -> Result<Node, ImportError> {
        if relative.is_empty() || relative.contains('\0') {
            return Err(self.error_at(
                ImportErrorKind::Include,
                at,
                "the `$include` path is empty or holds a NUL character".to_string(),
                "a path to a file",
            ));
        }
        let including_dir = self
            .sources
            .path(at.file)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let resolved = normalize(&including_dir.join(relative));
        let id = identity(&resolved);
        if let Some(start) = chain.iter().position(|p| *p == id) {
            let mut names: Vec<String> = chain[start..]
                .iter()
                .map(|p| self.display_path(p))
                .collect();
            names.push(self.display_path(&id));
            return Err(self.error_at(
                ImportErrorKind::IncludeCycle,
                at,
                format!("circular `$include`: {}", names.join(" → ")),
                "includes that do not lead back to a file already being read",
            ));
        }
        // chain[0] is the config itself, so chain.len() - 1 includes are open.
        if chain.len() > MAX_INCLUDE_DEPTH {
            return Err(self.error_at(
                ImportErrorKind::Include,
                at,
                format!("`$include` nests more than {MAX_INCLUDE_DEPTH} levels deep"),
                "at most 10 levels of nested includes (OpenClaw's limit)",
            ));
        }
        if let Some(roots) = &self.include_roots
            && !id.starts_with(&self.root_dir_real)
            && !roots.iter().any(|r| id.starts_with(identity(r)))
        {
            return Err(self.error_at(
                ImportErrorKind::Include,
                at,
                format!(
                    "`$include` reads {}, outside the config's directory and every OPENCLAW_INCLUDE_ROOTS entry; OpenClaw refuses it",
                    resolved.display()
                ),
                "a file under the config's directory, or a root listed in OPENCLAW_INCLUDE_ROOTS",
            ));
        }
        if !id.starts_with(&self.root_dir_real) && self.include_roots.is_none() {
            let loc = self.location(at);
            self.warnings.push(format!(
                "{loc}: `$include` reads {}, outside the config's directory; OpenClaw only allows that with OPENCLAW_INCLUDE_ROOTS",
                resolved.display()
            ));
        }
        self.includes_expanded += 1;
        let read: usize = self.sources.files.iter().map(|f| f.text.len()).sum();
        if self.includes_expanded > MAX_INCLUDE_EXPANSIONS
            || read as u64 > crate::read::MAX_FILE_BYTES
        {
            return Err(self.error_at(
                ImportErrorKind::Include,
                at,
                format!(
                    "`$include` expands to more than {MAX_INCLUDE_EXPANSIONS} files or 10 MiB in total (the same file included many times over counts each time)"
                ),
                "includes that expand to a bounded config: include each file once",
            ));
        }
        let parsed = self.load_file(&resolved, Some(at))?;
        let mut next = chain.to_vec();
        next.push(id);
        self.resolve_includes(parsed, &next)
    }
}
