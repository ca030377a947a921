//! Moving entries around a toml_edit document the way a person would edit the file:
//! a moved key takes its comments with it, a key renamed or moved within its table
//! stays on its line, and a missing parent becomes a dotted key in the table the
//! entry came from (`token = …` in `[gateway]` → `auth.token = …`), not a new
//! section at the end of the file.

use toml_edit::{InlineTable, Item, Key, Table, TableLike, Value};

use crate::config::keypath::{KeyPath, Segment};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    /// `at` holds a value, so nothing can go under it.
    NotATable { at: KeyPath, found: &'static str },
    /// The path has no key to act on (the document root, or an array index).
    BadPath(KeyPath),
}

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreeError::NotATable { at, found } => {
                write!(
                    f,
                    "`{at}` is {found}, not a table, so no key can go under it"
                )
            }
            TreeError::BadPath(p) => write!(f, "`{p}` does not name a key"),
        }
    }
}

pub fn kind(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) | Item::Value(Value::InlineTable(_)) => "a table",
        Item::ArrayOfTables(_) | Item::Value(Value::Array(_)) => "an array",
        Item::Value(Value::String(_)) => "a string",
        Item::Value(Value::Integer(_)) => "an integer",
        Item::Value(Value::Float(_)) => "a number",
        Item::Value(Value::Boolean(_)) => "a boolean",
        Item::Value(Value::Datetime(_)) => "a date",
    }
}

fn keys(path: &KeyPath) -> Result<Vec<&str>, TreeError> {
    path.segments()
        .iter()
        .map(|s| match s {
            Segment::Key(k) => Ok(k.as_str()),
            Segment::Index(_) => Err(TreeError::BadPath(path.clone())),
        })
        .collect()
}

pub fn get<'a>(root: &'a Item, path: &KeyPath) -> Option<&'a Item> {
    crate::config::tomlconv::item_at(root, path)
}

pub fn get_mut<'a>(root: &'a mut Item, path: &KeyPath) -> Option<&'a mut Item> {
    crate::config::tomlconv::item_at_mut(root, path)
}

fn table_mut<'a>(root: &'a mut Item, path: &KeyPath) -> Option<&'a mut dyn TableLike> {
    get_mut_or_root(root, path)?.as_table_like_mut()
}

fn get_mut_or_root<'a>(root: &'a mut Item, path: &KeyPath) -> Option<&'a mut Item> {
    if path.is_empty() {
        Some(root)
    } else {
        get_mut(root, path)
    }
}

fn split(path: &KeyPath) -> Result<(KeyPath, String), TreeError> {
    match path.segments().split_last() {
        Some((Segment::Key(k), parent)) => Ok((KeyPath::from_segments(parent.to_vec()), k.clone())),
        _ => Err(TreeError::BadPath(path.clone())),
    }
}

/// Remove `key` from `table`, returning its formatted key (comments above it live
/// in the key's decor), the item and its index.
fn take(table: &mut dyn TableLike, key: &str) -> Option<(Key, Item, usize)> {
    let index = table.iter().position(|(k, _)| k == key)?;
    let formatted = table.get_key_value(key)?.0.clone();
    let item = table.remove(key)?;
    Some((formatted, item, index))
}

/// Insert at `index` (None: at the end). toml_edit only appends, so the entries
/// after the index are taken out and put back in order, each with its own key
/// formatting; header tables keep their document position regardless.
fn insert_at(table: &mut dyn TableLike, index: Option<usize>, key: Key, item: Item) {
    let Some(index) = index.filter(|i| *i < table.len()) else {
        table.entry_format(&key).or_insert(item);
        return;
    };
    let names: Vec<String> = table
        .iter()
        .skip(index)
        .map(|(k, _)| k.to_string())
        .collect();
    let mut tail = Vec::with_capacity(names.len());
    for n in &names {
        if let Some((k, it, _)) = take(table, n) {
            tail.push((k, it));
        }
    }
    table.entry_format(&key).or_insert(item);
    for (k, it) in tail {
        table.entry_format(&k).or_insert(it);
    }
}

/// `key` under a new name, keeping the comments above it and its spacing.
fn renamed(key: &Key, name: &str) -> Key {
    if key.get() == name {
        return key.clone();
    }
    Key::new(name)
        .with_leaf_decor(key.leaf_decor().clone())
        .with_dotted_decor(key.dotted_decor().clone())
}

/// How missing parent tables are written.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// `auth.token = …` inside the table the entry lives in.
    Dotted,
    /// `{ token = … }` inside an inline table.
    Inline,
    /// `[gateway.auth]` sections (at the top level, or when moving a section).
    Header,
}

/// The item for `missing[0]`: `(leaf, item)` wrapped in one table per name in
/// `missing`, innermost last.
fn chain(missing: &[String], leaf: Key, item: Item, style: Style) -> Item {
    let mut key = leaf;
    let mut item = item;
    for (depth, name) in missing.iter().enumerate().rev() {
        item = match style {
            Style::Inline => {
                let mut t = InlineTable::new();
                // `place` made the item a value already.
                if let Item::Value(v) = item {
                    t.insert_formatted(&key, v);
                }
                Item::Value(Value::InlineTable(t))
            }
            Style::Dotted => {
                let mut t = Table::new();
                t.set_dotted(true);
                t.insert_formatted(&key, item);
                Item::Table(t)
            }
            Style::Header => {
                let mut t = Table::new();
                // Only the innermost section gets a `[header]` line, and only when
                // it holds a plain value; the outer ones stay implicit.
                let innermost_with_value = depth + 1 == missing.len() && !item.is_table();
                t.set_implicit(!innermost_with_value);
                t.insert_formatted(&key, item);
                Item::Table(t)
            }
        };
        key = Key::new(name.as_str());
    }
    item
}

/// Put `(leaf, item)` at `dest`, creating missing parents. `anchor`: the table and
/// index the entry came from, so that an entry that stays in its table keeps its line.
fn place(
    root: &mut Item,
    dest: &KeyPath,
    leaf: Key,
    item: Item,
    anchor: Option<(&KeyPath, usize)>,
) -> Result<(), TreeError> {
    let (parent, _) = split(dest)?;
    let names = keys(&parent)?;
    // The deepest existing ancestor of the destination.
    let mut depth = 0;
    while depth < names.len() {
        let prefix = KeyPath::from_segments(parent.segments()[..depth + 1].to_vec());
        match get(root, &prefix) {
            None => break,
            Some(it) if it.is_table_like() => depth += 1,
            Some(it) => {
                return Err(TreeError::NotATable {
                    at: prefix,
                    found: kind(it),
                });
            }
        }
    }
    let ancestor = KeyPath::from_segments(parent.segments()[..depth].to_vec());
    let missing: Vec<String> = names[depth..].iter().map(|s| s.to_string()).collect();
    let index = anchor.filter(|(p, _)| **p == ancestor).map(|(_, i)| i);
    let container = get_mut_or_root(root, &ancestor).ok_or(TreeError::BadPath(ancestor.clone()))?;
    let style = if matches!(container, Item::Value(Value::InlineTable(_))) {
        Style::Inline
    } else if ancestor.is_empty() || (item.is_table() && !is_dotted(&item)) {
        Style::Header
    } else {
        Style::Dotted
    };
    // Inside an inline table everything is a value: a section becomes `{ … }`.
    let item = if style == Style::Inline {
        match item.into_value() {
            Ok(v) => Item::Value(v),
            Err(_) => return Err(TreeError::BadPath(dest.clone())),
        }
    } else {
        item
    };
    let table = container
        .as_table_like_mut()
        .ok_or(TreeError::BadPath(ancestor.clone()))?;
    if missing.is_empty() {
        insert_at(table, index, leaf, item);
    } else {
        let top = Key::new(missing[0].as_str());
        insert_at(table, index, top, chain(&missing, leaf, item, style));
    }
    Ok(())
}

fn is_dotted(item: &Item) -> bool {
    item.as_table().is_some_and(Table::is_dotted)
}

/// Move the entry at `from` to `to` (replacing its item with `replacement` when
/// given). The destination must not exist.
pub fn move_entry(
    root: &mut Item,
    from: &KeyPath,
    to: &KeyPath,
    replacement: Option<Item>,
) -> Result<(), TreeError> {
    let (from_parent, from_key) = split(from)?;
    let (_, to_key) = split(to)?;
    // Check the destination can exist before changing anything.
    check_parents(root, to)?;
    let table = table_mut(root, &from_parent).ok_or(TreeError::BadPath(from.clone()))?;
    let (key, item, index) = take(table, &from_key).ok_or(TreeError::BadPath(from.clone()))?;
    let item = replacement.unwrap_or(item);
    place(
        root,
        to,
        renamed(&key, &to_key),
        item,
        Some((&from_parent, index)),
    )?;
    hide_if_only_sections(root, &from_parent);
    Ok(())
}

/// A `[section]` left with nothing but subsections and no comment of its own loses
/// its header line (it becomes implicit, as if never written), so a move does not
/// leave an empty `[gateway]` behind. Nothing in it is removed.
fn hide_if_only_sections(root: &mut Item, path: &KeyPath) {
    if path.is_empty() {
        return;
    }
    let Some(Item::Table(t)) = get_mut(root, path) else {
        return;
    };
    let only_sections = t
        .iter()
        .all(|(_, i)| i.as_table().is_some_and(|c| !c.is_dotted()));
    let commented = [t.decor().prefix(), t.decor().suffix()]
        .iter()
        .any(|r| r.and_then(|r| r.as_str()).is_some_and(|s| s.contains('#')));
    if only_sections && !commented && !t.is_dotted() {
        t.set_implicit(true);
    }
}

fn check_parents(root: &Item, path: &KeyPath) -> Result<(), TreeError> {
    let (parent, _) = split(path)?;
    for n in 1..=parent.segments().len() {
        let prefix = KeyPath::from_segments(parent.segments()[..n].to_vec());
        match get(root, &prefix) {
            None => return Ok(()),
            Some(it) if it.is_table_like() => {}
            Some(it) => {
                return Err(TreeError::NotATable {
                    at: prefix,
                    found: kind(it),
                });
            }
        }
    }
    Ok(())
}

/// Add a new entry at `path` (which must not exist), creating missing parents.
pub fn insert_new(root: &mut Item, path: &KeyPath, item: Item) -> Result<(), TreeError> {
    let (_, name) = split(path)?;
    check_parents(root, path)?;
    place(root, path, Key::new(name.as_str()), item, None)
}

/// Remove the entry at `path`, returning it.
pub fn remove(root: &mut Item, path: &KeyPath) -> Option<Item> {
    let (parent, name) = split(path).ok()?;
    let table = table_mut(root, &parent)?;
    let removed = take(table, &name).map(|(_, item, _)| item);
    hide_if_only_sections(root, &parent);
    removed
}

/// Replace a value, keeping its surrounding spaces and trailing comment.
pub fn replace_value(slot: &mut Value, new: impl Into<Value>) {
    let mut v: Value = new.into();
    *v.decor_mut() = slot.decor().clone();
    *slot = v;
}

/// Turn the string at `path` into a one-key table `{ into = "…" }`, in place: in a
/// section it becomes a dotted key (`model.primary = "…"`) on the same line, with
/// the same comments.
pub fn wrap(root: &mut Item, path: &KeyPath, into: &str) -> Result<bool, TreeError> {
    let (parent, name) = split(path)?;
    let Some(container) = get_mut_or_root(root, &parent) else {
        return Ok(false);
    };
    let inline_parent = matches!(container, Item::Value(Value::InlineTable(_)));
    let Some(table) = container.as_table_like_mut() else {
        return Ok(false);
    };
    if !table.get(&name).is_some_and(|i| i.is_str()) {
        return Ok(false);
    }
    let Some((key, item, index)) = take(table, &name) else {
        return Ok(false);
    };
    let Item::Value(value) = item else {
        return Ok(false);
    };
    let new = if inline_parent {
        let mut decor = value.decor().clone();
        let mut inner = value;
        inner.decor_mut().clear();
        let mut t = InlineTable::new();
        t.insert(into, inner);
        let mut v = Value::InlineTable(t);
        std::mem::swap(v.decor_mut(), &mut decor);
        (key, Item::Value(v))
    } else {
        let mut t = Table::new();
        t.set_dotted(true);
        t.insert_formatted(&renamed(&key, into), Item::Value(value));
        (Key::new(name.as_str()), Item::Table(t))
    };
    insert_at(table, Some(index), new.0, new.1);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml_edit::DocumentMut;

    fn kp(s: &str) -> KeyPath {
        KeyPath::parse(s).unwrap()
    }

    #[test]
    fn rename_in_place_keeps_line_and_comments() {
        let mut doc: DocumentMut = "[p]\na = 1\n# the url\nbaseUrl = \"x\" # note\nz = 2\n"
            .parse()
            .unwrap();
        move_entry(doc.as_item_mut(), &kp("p.baseUrl"), &kp("p.base_url"), None).unwrap();
        assert_eq!(
            doc.to_string(),
            "[p]\na = 1\n# the url\nbase_url = \"x\" # note\nz = 2\n"
        );
    }

    #[test]
    fn moving_under_a_missing_parent_makes_a_dotted_key_on_the_same_line() {
        let mut doc: DocumentMut = "[gateway]\n# tok\ntoken = \"t\" # c\nport = 1\n"
            .parse()
            .unwrap();
        move_entry(
            doc.as_item_mut(),
            &kp("gateway.token"),
            &kp("gateway.auth.token"),
            None,
        )
        .unwrap();
        assert_eq!(
            doc.to_string(),
            "[gateway]\n# tok\nauth.token = \"t\" # c\nport = 1\n"
        );
    }

    #[test]
    fn moving_into_an_existing_section_appends_there() {
        let mut doc: DocumentMut =
            "[gateway]\ntoken = \"t\"\nport = 1\n\n[gateway.auth]\nmode = \"token\"\n"
                .parse()
                .unwrap();
        move_entry(
            doc.as_item_mut(),
            &kp("gateway.token"),
            &kp("gateway.auth.token"),
            None,
        )
        .unwrap();
        assert_eq!(
            doc.to_string(),
            "[gateway]\nport = 1\n\n[gateway.auth]\nmode = \"token\"\ntoken = \"t\"\n"
        );
        // A section left with only subsections loses its empty header.
        let mut doc: DocumentMut = "[gateway]\ntoken = \"t\"\n\n[gateway.auth]\nmode = \"token\"\n"
            .parse()
            .unwrap();
        move_entry(
            doc.as_item_mut(),
            &kp("gateway.token"),
            &kp("gateway.auth.token"),
            None,
        )
        .unwrap();
        assert_eq!(
            doc.to_string(),
            "\n[gateway.auth]\nmode = \"token\"\ntoken = \"t\"\n"
        );
    }

    #[test]
    fn new_top_level_entries_become_sections() {
        let mut doc: DocumentMut = "# hi\n[a]\nx = 1\n".parse().unwrap();
        insert_new(
            doc.as_item_mut(),
            &kp("gateway.auth.mode"),
            Item::Value("token".into()),
        )
        .unwrap();
        assert_eq!(
            doc.to_string(),
            "# hi\n[a]\nx = 1\n\n[gateway.auth]\nmode = \"token\"\n"
        );
        let mut doc: DocumentMut = "[gateway]\nauth.token = \"t\"\n".parse().unwrap();
        insert_new(
            doc.as_item_mut(),
            &kp("gateway.auth.mode"),
            Item::Value("token".into()),
        )
        .unwrap();
        assert_eq!(
            doc.to_string(),
            "[gateway]\nauth.token = \"t\"\nauth.mode = \"token\"\n"
        );
    }

    #[test]
    fn renaming_a_section_keeps_its_position_and_subsections() {
        let mut doc: DocumentMut = "[models.providers.kimi-code]\nx = 1\n\n[models.providers.kimi-code.headers]\nA = \"b\"\n\n[gateway]\nport = 1\n"
            .parse()
            .unwrap();
        move_entry(
            doc.as_item_mut(),
            &kp("models.providers.kimi-code"),
            &kp("models.providers.kimi-coding"),
            None,
        )
        .unwrap();
        assert_eq!(
            doc.to_string(),
            "[models.providers.kimi-coding]\nx = 1\n\n[models.providers.kimi-coding.headers]\nA = \"b\"\n\n[gateway]\nport = 1\n"
        );
    }

    #[test]
    fn wrap_in_a_section_and_in_an_inline_table() {
        let mut doc: DocumentMut = "[agents.defaults]\n# main\nmodel = \"a/b\" # fast\nother = 1\n"
            .parse()
            .unwrap();
        assert!(wrap(doc.as_item_mut(), &kp("agents.defaults.model"), "primary").unwrap());
        assert_eq!(
            doc.to_string(),
            "[agents.defaults]\n# main\nmodel.primary = \"a/b\" # fast\nother = 1\n"
        );
        assert!(!wrap(doc.as_item_mut(), &kp("agents.defaults.model"), "primary").unwrap());
        let mut doc: DocumentMut = "[agents]\ndefaults = { model = \"a/b\" }\n"
            .parse()
            .unwrap();
        assert!(wrap(doc.as_item_mut(), &kp("agents.defaults.model"), "primary").unwrap());
        assert_eq!(
            doc.to_string(),
            "[agents]\ndefaults = { model = { primary = \"a/b\" } }\n"
        );
    }

    #[test]
    fn refuses_to_go_under_a_value() {
        let mut doc: DocumentMut = "[gateway]\nauth = \"x\"\ntoken = \"t\"\n".parse().unwrap();
        let e = move_entry(
            doc.as_item_mut(),
            &kp("gateway.token"),
            &kp("gateway.auth.token"),
            None,
        )
        .unwrap_err();
        assert!(matches!(e, TreeError::NotATable { .. }));
        assert!(doc.to_string().contains("token = \"t\""), "nothing moved");
    }
}
