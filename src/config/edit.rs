//! Editing config.toml in place with toml_edit: every byte outside the edited value
//! stays as it was (comments, blank lines, order, quoting), the edited value keeps
//! its trailing comment, and new keys go into their table or into a new `[a.b]`
//! table — never an inline table dumped at the top.

use serde_json::Value;
use toml_edit::{DocumentMut, Item, Table};

use crate::config::keypath::{KeyPath, Segment};
use crate::config::tomlconv::{item_to_json, json_to_toml_value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The path runs through a value that is not a table.
    NotATable {
        at: KeyPath,
        found: &'static str,
    },
    /// Replacing a table with a scalar needs `--force`.
    WouldReplaceTable {
        at: KeyPath,
    },
    IndexOutOfRange {
        at: KeyPath,
        len: usize,
    },
    NotAnArray {
        at: KeyPath,
    },
    NotSet {
        at: KeyPath,
    },
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EditError::NotATable { at, found } => write!(
                f,
                "`{at}` is {found}, not a table, so keys cannot be set under it"
            ),
            EditError::WouldReplaceTable { at } => write!(
                f,
                "`{at}` is a table; setting it to a single value would delete everything in it (use --force to do it anyway, or set a key inside it)"
            ),
            EditError::IndexOutOfRange { at, len } => write!(
                f,
                "`{at}` is out of range: the array has {len} element(s); use --append to add one"
            ),
            EditError::NotAnArray { at } => write!(f, "`{at}` is not an array; --append needs one"),
            EditError::NotSet { at } => write!(f, "`{at}` is not set in the file"),
        }
    }
}

impl std::error::Error for EditError {}

/// What an edit did, for messages and `--json`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EditReport {
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// Side effects worth telling (a string became a table, …).
    pub notes: Vec<String>,
}

fn kind(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) | Item::Value(toml_edit::Value::InlineTable(_)) => "a table",
        Item::ArrayOfTables(_) | Item::Value(toml_edit::Value::Array(_)) => "an array",
        Item::Value(toml_edit::Value::String(_)) => "a string",
        Item::Value(toml_edit::Value::Integer(_)) => "an integer",
        Item::Value(toml_edit::Value::Float(_)) => "a number",
        Item::Value(toml_edit::Value::Boolean(_)) => "a boolean",
        Item::Value(toml_edit::Value::Datetime(_)) => "a date",
    }
}

fn is_table_like(item: &Item) -> bool {
    matches!(
        item,
        Item::Table(_) | Item::Value(toml_edit::Value::InlineTable(_))
    )
}

/// A JSON value as a TOML item: objects become `[header]` tables when they sit in a
/// header table, so the file keeps its hand-written look.
fn to_item(value: &Value, as_header: bool) -> Item {
    match value {
        Value::Object(map) if as_header => {
            let mut t = Table::new();
            for (k, v) in map {
                let nested = matches!(v, Value::Object(_));
                t.insert(k, to_item(v, nested));
            }
            Item::Table(t)
        }
        other => json_to_toml_value(other)
            .map(Item::Value)
            .unwrap_or(Item::None),
    }
}

/// Replace `slot` with `new`, keeping the old value's surrounding whitespace and
/// trailing comment.
fn replace_value(slot: &mut Item, new: Item) {
    match (slot.as_value(), new) {
        (Some(old), Item::Value(mut v)) => {
            *v.decor_mut() = old.decor().clone();
            *slot = Item::Value(v);
        }
        (_, new) => *slot = new,
    }
}

/// Set `path` to `value`. `append`: push onto the array at `path`.
pub fn set(
    doc: &mut DocumentMut,
    path: &KeyPath,
    value: &Value,
    append: bool,
    force: bool,
) -> Result<EditReport, EditError> {
    let mut report = EditReport::default();
    wrap_strings_on_the_way(doc, path, &mut report);
    let (last, parents) = path
        .segments()
        .split_last()
        .ok_or(EditError::WouldReplaceTable {
            at: KeyPath::root(),
        })?;
    let mut cur: &mut Item = doc.as_item_mut();
    let mut walked = KeyPath::root();
    for (i, seg) in parents.iter().enumerate() {
        let next_is_key = matches!(path.segments().get(i + 1), Some(Segment::Key(_)));
        walked.push(seg.clone());
        cur = descend(cur, seg, &walked, next_is_key)?;
    }
    walked.push(last.clone());
    match last {
        Segment::Key(k) => {
            let as_header = matches!(cur, Item::Table(_));
            let table = cur.as_table_like_mut().ok_or(EditError::NotATable {
                at: walked.parent().unwrap_or_default(),
                found: "not a table",
            })?;
            match table.get_mut(k) {
                Some(existing) if !existing.is_none() => {
                    report.old = Some(item_to_json(existing));
                    if append {
                        append_to(existing, value, &walked)?;
                    } else {
                        if is_table_like(existing) && !value.is_object() && !force {
                            return Err(EditError::WouldReplaceTable { at: walked });
                        }
                        let nested = as_header && matches!(existing, Item::Table(_));
                        replace_value(existing, to_item(value, nested));
                    }
                    report.new = Some(item_to_json(existing));
                }
                _ => {
                    let item = if append {
                        let arr = match value {
                            Value::Array(_) => value.clone(),
                            other => Value::Array(vec![other.clone()]),
                        };
                        to_item(&arr, false)
                    } else {
                        to_item(value, as_header && value.is_object())
                    };
                    report.new = Some(item_to_json(&item));
                    table.insert(k, item);
                }
            }
        }
        Segment::Index(n) => {
            let arr = cur.as_array_mut().ok_or(EditError::NotAnArray {
                at: walked.parent().unwrap_or_default(),
            })?;
            let len = arr.len();
            let new = json_to_toml_value(value).ok_or(EditError::NotSet { at: walked.clone() })?;
            if *n < len {
                let old = arr.get(*n).cloned();
                report.old = old.as_ref().map(crate::config::tomlconv::value_to_json);
                let mut new = new;
                if let Some(o) = old {
                    *new.decor_mut() = o.decor().clone();
                }
                arr.replace(*n, new);
            } else if *n == len && append {
                arr.push(new);
            } else {
                return Err(EditError::IndexOutOfRange { at: walked, len });
            }
            report.new = Some(value.clone());
        }
    }
    Ok(report)
}

/// A string the path runs through, where the schema also accepts a table with a
/// `primary` key (`agents.defaults.model = "x"`), becomes that table in place —
/// `model.primary = "x"` on the same line with the same comment — before the edit.
fn wrap_strings_on_the_way(doc: &mut DocumentMut, path: &KeyPath, report: &mut EditReport) {
    for n in 1..path.segments().len() {
        if !matches!(path.segments()[n], Segment::Key(_)) {
            continue;
        }
        let prefix = KeyPath::from_segments(path.segments()[..n].to_vec());
        let is_string =
            crate::config::tomlconv::item_at(doc.as_item(), &prefix).is_some_and(Item::is_str);
        if is_string
            && crate::config::schema::known_children(&prefix)
                .iter()
                .any(|c| c == "primary")
            && crate::migrate::tree::wrap(doc.as_item_mut(), &prefix, "primary").unwrap_or(false)
        {
            report.notes.push(format!(
                "`{prefix}` was a string; it is now a table and its old value is `{prefix}.primary`"
            ));
        }
    }
}

fn append_to(existing: &mut Item, value: &Value, at: &KeyPath) -> Result<(), EditError> {
    let arr = existing
        .as_array_mut()
        .ok_or(EditError::NotAnArray { at: at.clone() })?;
    let items: Vec<&Value> = match value {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    for v in items {
        if let Some(tv) = json_to_toml_value(v) {
            arr.push(tv);
        }
    }
    Ok(())
}

/// One step down the path, creating tables as needed.
fn descend<'a>(
    cur: &'a mut Item,
    seg: &Segment,
    walked: &KeyPath,
    next_is_key: bool,
) -> Result<&'a mut Item, EditError> {
    match seg {
        Segment::Key(k) => {
            let parent_is_header = matches!(cur, Item::Table(_));
            let table = cur.as_table_like_mut().ok_or(EditError::NotATable {
                at: walked.parent().unwrap_or_default(),
                found: "not a table",
            })?;
            let missing = table.get(k).is_none_or(Item::is_none);
            if missing {
                let item = if parent_is_header {
                    let mut t = Table::new();
                    // Intermediate tables stay implicit: no empty `[agents]` header.
                    t.set_implicit(true);
                    Item::Table(t)
                } else {
                    Item::Value(toml_edit::Value::InlineTable(toml_edit::InlineTable::new()))
                };
                table.insert(k, item);
            }
            let child = table.get_mut(k).expect("inserted above");
            if next_is_key && !is_table_like(child) {
                // Strings the schema lets become tables were wrapped before the walk.
                return Err(EditError::NotATable {
                    at: walked.clone(),
                    found: kind(child),
                });
            }
            Ok(child)
        }
        Segment::Index(_) => {
            // The schema has no arrays of tables, so an index is only ever the last
            // segment of a path.
            Err(EditError::NotATable {
                at: walked.clone(),
                found: "an array element",
            })
        }
    }
}

/// Remove `path`. Tables left empty are removed too unless they carry a comment.
pub fn unset(doc: &mut DocumentMut, path: &KeyPath) -> Result<EditReport, EditError> {
    let mut report = EditReport::default();
    let (last, parents) = path
        .segments()
        .split_last()
        .ok_or(EditError::NotSet { at: path.clone() })?;
    {
        let mut cur: &mut Item = doc.as_item_mut();
        for seg in parents {
            cur = match seg {
                Segment::Key(k) => cur
                    .as_table_like_mut()
                    .and_then(|t| t.get_mut(k))
                    .filter(|i| !i.is_none())
                    .ok_or(EditError::NotSet { at: path.clone() })?,
                Segment::Index(_) => return Err(EditError::NotSet { at: path.clone() }),
            };
        }
        match last {
            Segment::Key(k) => {
                let t = cur
                    .as_table_like_mut()
                    .ok_or(EditError::NotSet { at: path.clone() })?;
                let old = t.remove(k).ok_or(EditError::NotSet { at: path.clone() })?;
                report.old = Some(item_to_json(&old));
            }
            Segment::Index(n) => {
                let a = cur
                    .as_array_mut()
                    .ok_or(EditError::NotSet { at: path.clone() })?;
                if *n >= a.len() {
                    return Err(EditError::NotSet { at: path.clone() });
                }
                report.old = Some(crate::config::tomlconv::value_to_json(&a.remove(*n)));
            }
        }
    }
    prune_empty_parents(doc, path, &mut report);
    Ok(report)
}

fn prune_empty_parents(doc: &mut DocumentMut, path: &KeyPath, report: &mut EditReport) {
    let mut p = path.parent();
    while let Some(cur) = p {
        if cur.is_empty() {
            break;
        }
        let Some((Segment::Key(k), parents)) = cur.segments().split_last() else {
            break;
        };
        let Some(item) = crate::config::tomlconv::item_at_mut(
            doc.as_item_mut(),
            &KeyPath::from_segments(parents.to_vec()),
        ) else {
            break;
        };
        let Some(parent) = item.as_table_like_mut() else {
            break;
        };
        let removable = match parent.get(k) {
            Some(Item::Table(t)) => t.is_empty() && !has_comment(t),
            Some(Item::Value(toml_edit::Value::InlineTable(t))) => t.is_empty(),
            _ => false,
        };
        if !removable {
            break;
        }
        parent.remove(k);
        report
            .notes
            .push(format!("removed the table `{cur}`, now empty"));
        p = cur.parent();
    }
}

fn has_comment(t: &Table) -> bool {
    let d = t.decor();
    [d.prefix(), d.suffix()]
        .iter()
        .any(|r| r.and_then(|r| r.as_str()).is_some_and(|s| s.contains('#')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kp(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    const SAMPLE: &str = "#:schema ./config.schema.json\n# gateway config\n\n[agents.defaults.model]\n# the main one\nprimary = \"zai/glm-5\"   # was glm\nfallbacks = ['openai/gpt-5']\n\n[gateway]\nport = 18789 # default\n";

    #[test]
    fn replacing_a_value_changes_one_line_and_keeps_its_comment() {
        let mut doc: DocumentMut = SAMPLE.parse().unwrap();
        set(
            &mut doc,
            &kp("agents.defaults.model.primary"),
            &json!("moonshot/kimi-k2.5"),
            false,
            false,
        )
        .unwrap();
        let out = doc.to_string();
        let changed: Vec<_> = SAMPLE
            .lines()
            .zip(out.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(changed.len(), 1, "{out}");
        assert_eq!(changed[0].1, "primary = \"moonshot/kimi-k2.5\"   # was glm");
        assert_eq!(SAMPLE.lines().count(), out.lines().count());
    }

    #[test]
    fn new_keys_go_into_header_tables() {
        let mut doc: DocumentMut = SAMPLE.parse().unwrap();
        set(
            &mut doc,
            &kp("models.providers.moonshot.base_url"),
            &json!("https://api.moonshot.cn/v1"),
            false,
            false,
        )
        .unwrap();
        set(&mut doc, &kp("gateway.bind"), &json!("lan"), false, false).unwrap();
        let out = doc.to_string();
        assert!(out.starts_with(SAMPLE.trim_end_matches('\n')), "{out}");
        assert!(
            out.contains("[models.providers.moonshot]\nbase_url = \"https://api.moonshot.cn/v1\""),
            "{out}"
        );
        assert!(!out.contains("[models]\n"), "{out}");
        assert!(
            out.contains("port = 18789 # default\nbind = \"lan\""),
            "{out}"
        );
    }

    #[test]
    fn a_string_model_becomes_a_table() {
        let mut doc: DocumentMut = "[agents.defaults]\nmodel = \"zai/glm-5\"\n"
            .parse()
            .unwrap();
        let r = set(
            &mut doc,
            &kp("agents.defaults.model.fallbacks"),
            &json!(["a/b"]),
            false,
            false,
        )
        .unwrap();
        assert_eq!(r.notes.len(), 1);
        let v = item_to_json(doc.as_item());
        assert_eq!(
            v["agents"]["defaults"]["model"],
            json!({"primary": "zai/glm-5", "fallbacks": ["a/b"]})
        );
    }

    #[test]
    fn refuses_to_replace_a_table_with_a_scalar() {
        let mut doc: DocumentMut = SAMPLE.parse().unwrap();
        let e = set(&mut doc, &kp("gateway"), &json!(1), false, false).unwrap_err();
        assert!(matches!(e, EditError::WouldReplaceTable { .. }));
        assert!(set(&mut doc, &kp("gateway.port.x"), &json!(1), false, false).is_err());
    }

    #[test]
    fn append_and_index() {
        let mut doc: DocumentMut = SAMPLE.parse().unwrap();
        set(
            &mut doc,
            &kp("agents.defaults.model.fallbacks"),
            &json!("zai/glm-5"),
            true,
            false,
        )
        .unwrap();
        set(
            &mut doc,
            &kp("agents.defaults.model.fallbacks[0]"),
            &json!("openai/gpt-5-mini"),
            false,
            false,
        )
        .unwrap();
        let v = item_to_json(doc.as_item());
        assert_eq!(
            v["agents"]["defaults"]["model"]["fallbacks"],
            json!(["openai/gpt-5-mini", "zai/glm-5"])
        );
        assert!(matches!(
            set(
                &mut doc,
                &kp("agents.defaults.model.fallbacks[5]"),
                &json!("x/y"),
                false,
                false
            ),
            Err(EditError::IndexOutOfRange { .. })
        ));
    }

    #[test]
    fn unset_removes_and_prunes_uncommented_empty_tables() {
        let mut doc: DocumentMut =
            "[models.providers.x]\nbase_url = \"http://a\"\n\n# keep me\n[gateway]\nport = 1\n"
                .parse()
                .unwrap();
        unset(&mut doc, &kp("models.providers.x.base_url")).unwrap();
        assert!(!doc.to_string().contains("providers.x"), "{doc}");
        unset(&mut doc, &kp("gateway.port")).unwrap();
        assert!(doc.to_string().contains("# keep me\n[gateway]"), "{doc}");
        assert!(matches!(
            unset(&mut doc, &kp("gateway.port")),
            Err(EditError::NotSet { .. })
        ));
    }
}
#[cfg(test)]
mod wrap_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_string_model_is_wrapped_on_its_own_line() {
        let mut doc: DocumentMut =
            "[agents.defaults]\nmodel = \"zai/glm-5\"   # the model\n\n[gateway]\nport = 1\n"
                .parse()
                .unwrap();
        let r = set(
            &mut doc,
            &KeyPath::parse("agents.defaults.model.primary").unwrap(),
            &json!("moonshot/kimi-k2.5"),
            false,
            false,
        )
        .unwrap();
        assert_eq!(r.notes.len(), 1);
        assert_eq!(
            doc.to_string(),
            "[agents.defaults]\nmodel.primary = \"moonshot/kimi-k2.5\"   # the model\n\n[gateway]\nport = 1\n"
        );
        set(
            &mut doc,
            &KeyPath::parse("agents.defaults.model.fallbacks").unwrap(),
            &json!(["zai/glm-5"]),
            false,
            false,
        )
        .unwrap();
        assert!(
            doc.to_string()
                .contains("model.fallbacks = [\"zai/glm-5\"]"),
            "{doc}"
        );
    }
}
