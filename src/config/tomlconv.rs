//! Conversions between toml_edit documents, JSON values and figment values, and
//! the map from each key to its line and column in the file (figment tracks which
//! provider a value came from but not where in the file).

use std::collections::BTreeMap;

use figment::value::{Dict, Empty, Num, Tag, Value as FValue};
use serde_json::Value;

use crate::config::keypath::KeyPath;

pub fn item_to_json(item: &toml_edit::Item) -> Value {
    match item {
        toml_edit::Item::None => Value::Null,
        toml_edit::Item::Value(v) => value_to_json(v),
        toml_edit::Item::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), item_to_json(v)))
                .collect(),
        ),
        toml_edit::Item::ArrayOfTables(a) => Value::Array(
            a.iter()
                .map(|t| {
                    Value::Object(
                        t.iter()
                            .map(|(k, v)| (k.to_string(), item_to_json(v)))
                            .collect(),
                    )
                })
                .collect(),
        ),
    }
}

pub fn value_to_json(v: &toml_edit::Value) -> Value {
    match v {
        toml_edit::Value::String(s) => Value::String(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::from(*i.value()),
        toml_edit::Value::Float(f) => serde_json::Number::from_f64(*f.value())
            .map(Value::Number)
            .unwrap_or(Value::Null),
        toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
        toml_edit::Value::Datetime(d) => Value::String(d.value().to_string()),
        toml_edit::Value::Array(a) => Value::Array(a.iter().map(value_to_json).collect()),
        toml_edit::Value::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), value_to_json(v)))
                .collect(),
        ),
    }
}

/// JSON → a toml_edit value (for writing). Null has no TOML form.
pub fn json_to_toml_value(v: &Value) -> Option<toml_edit::Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => toml_edit::Value::from(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml_edit::Value::from(i),
            None => toml_edit::Value::from(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => toml_edit::Value::from(s.as_str()),
        Value::Array(items) => {
            let mut a = toml_edit::Array::new();
            for it in items {
                if let Some(tv) = json_to_toml_value(it) {
                    a.push(tv);
                }
            }
            toml_edit::Value::Array(a)
        }
        Value::Object(map) => {
            let mut t = toml_edit::InlineTable::new();
            for (k, it) in map {
                if let Some(tv) = json_to_toml_value(it) {
                    t.insert(k, tv);
                }
            }
            toml_edit::Value::InlineTable(t)
        }
    })
}

/// A parsed TOML item straight into figment's value type (no JSON in between: a
/// 50 KB file is thousands of nodes, and each copy costs allocations).
pub fn item_to_dict(item: &toml_edit::Item) -> Dict {
    match item.as_table_like() {
        Some(t) => t
            .iter()
            .map(|(k, v)| (k.to_string(), item_to_figment(v)))
            .collect(),
        None => Dict::new(),
    }
}

fn item_to_figment(item: &toml_edit::Item) -> FValue {
    match item {
        toml_edit::Item::Value(v) => toml_value_to_figment(v),
        toml_edit::Item::Table(_) => FValue::Dict(Tag::Default, item_to_dict(item)),
        toml_edit::Item::ArrayOfTables(a) => FValue::Array(
            Tag::Default,
            a.iter()
                .map(|t| {
                    FValue::Dict(
                        Tag::Default,
                        t.iter()
                            .map(|(k, v)| (k.to_string(), item_to_figment(v)))
                            .collect(),
                    )
                })
                .collect(),
        ),
        toml_edit::Item::None => FValue::Empty(Tag::Default, Empty::None),
    }
}

fn toml_value_to_figment(v: &toml_edit::Value) -> FValue {
    match v {
        toml_edit::Value::String(s) => FValue::String(Tag::Default, s.value().clone()),
        toml_edit::Value::Integer(i) => FValue::Num(Tag::Default, Num::I64(*i.value())),
        toml_edit::Value::Float(f) => FValue::Num(Tag::Default, Num::F64(*f.value())),
        toml_edit::Value::Boolean(b) => FValue::Bool(Tag::Default, *b.value()),
        toml_edit::Value::Datetime(d) => FValue::String(Tag::Default, d.value().to_string()),
        toml_edit::Value::Array(a) => {
            FValue::Array(Tag::Default, a.iter().map(toml_value_to_figment).collect())
        }
        toml_edit::Value::InlineTable(t) => FValue::Dict(
            Tag::Default,
            t.iter()
                .map(|(k, v)| (k.to_string(), toml_value_to_figment(v)))
                .collect(),
        ),
    }
}

pub fn json_to_figment(v: &Value) -> FValue {
    match v {
        Value::Null => FValue::Empty(Tag::Default, Empty::None),
        Value::Bool(b) => FValue::Bool(Tag::Default, *b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => FValue::Num(Tag::Default, Num::I64(i)),
            (None, Some(u)) => FValue::Num(Tag::Default, Num::U64(u)),
            _ => FValue::Num(Tag::Default, Num::F64(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => FValue::String(Tag::Default, s.clone()),
        Value::Array(a) => FValue::Array(Tag::Default, a.iter().map(json_to_figment).collect()),
        Value::Object(m) => FValue::Dict(Tag::Default, json_obj_to_dict(m)),
    }
}

pub fn json_obj_to_dict(m: &serde_json::Map<String, Value>) -> Dict {
    m.iter()
        .map(|(k, v)| (k.clone(), json_to_figment(v)))
        .collect()
}

/// A figment dict as a JSON object (no clone of the dict).
pub fn dict_to_json(d: &Dict) -> Value {
    Value::Object(
        d.iter()
            .map(|(k, v)| (k.clone(), figment_to_json(v)))
            .collect(),
    )
}

pub fn figment_to_json(v: &FValue) -> Value {
    match v {
        FValue::String(_, s) => Value::String(s.clone()),
        FValue::Char(_, c) => Value::String(c.to_string()),
        FValue::Bool(_, b) => Value::Bool(*b),
        FValue::Num(_, n) => match *n {
            Num::U8(x) => Value::from(x),
            Num::U16(x) => Value::from(x),
            Num::U32(x) => Value::from(x),
            Num::U64(x) => Value::from(x),
            Num::U128(x) => Value::from(x as f64),
            Num::USize(x) => Value::from(x),
            Num::I8(x) => Value::from(x),
            Num::I16(x) => Value::from(x),
            Num::I32(x) => Value::from(x),
            Num::I64(x) => Value::from(x),
            Num::I128(x) => Value::from(x as f64),
            Num::ISize(x) => Value::from(x),
            Num::F32(x) => Value::from(x as f64),
            Num::F64(x) => Value::from(x),
        },
        FValue::Empty(_, _) => Value::Null,
        FValue::Dict(_, d) => Value::Object(
            d.iter()
                .map(|(k, v)| (k.clone(), figment_to_json(v)))
                .collect(),
        ),
        FValue::Array(_, a) => Value::Array(a.iter().map(figment_to_json).collect()),
    }
}

/// A position in a file, 1-based line and column (column in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// Line starts of a text, so that many offsets convert to positions in O(log n)
/// each (a 50 KB config has thousands of leaves; scanning per leaf was quadratic).
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// Per line: whether it is ASCII (then a column is a byte count, found in O(1)).
    ascii: Vec<bool>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let ascii = starts
            .iter()
            .enumerate()
            .map(|(i, s)| text[*s..starts.get(i + 1).copied().unwrap_or(text.len())].is_ascii())
            .collect();
        LineIndex {
            text,
            starts,
            ascii,
        }
    }

    /// An index rebuilt from the parts of an earlier [`LineIndex::into_parts`] of the
    /// same text.
    pub fn from_parts(text: &'a str, parts: (Vec<usize>, Vec<bool>)) -> LineIndex<'a> {
        LineIndex {
            text,
            starts: parts.0,
            ascii: parts.1,
        }
    }

    /// Line starts (byte offsets) and per-line ASCII flags, to keep for the same text.
    pub fn into_parts(self) -> (Vec<usize>, Vec<bool>) {
        (self.starts, self.ascii)
    }

    /// The 1-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|s| *s <= offset.min(self.text.len()))
    }

    /// Byte offset where 1-based `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line.clamp(1, self.starts.len()) - 1]
    }

    /// Byte offset where 1-based `line` ends (before its newline).
    pub fn line_end(&self, line: usize) -> usize {
        match self.starts.get(line) {
            Some(next) => next - 1,
            None => self.text.len(),
        }
    }

    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset);
        let start = self.starts[line - 1];
        let col = if self.ascii[line - 1] {
            offset - start
        } else {
            self.text
                .get(start..offset)
                .map(|s| s.chars().count())
                .unwrap_or(0)
        } + 1;
        Pos { line, col }
    }
}

pub fn offset_to_pos(text: &str, offset: usize) -> Pos {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    Pos {
        line,
        col: text[line_start..offset].chars().count() + 1,
    }
}

/// The item at `path` in a document (`None` for an array index, a missing key or
/// an empty slot). One lookup for the editor, the migrations and the readers.
pub fn item_at<'a>(root: &'a toml_edit::Item, path: &KeyPath) -> Option<&'a toml_edit::Item> {
    let mut item = root;
    for seg in path.segments() {
        item = match seg {
            crate::config::keypath::Segment::Key(k) => item.as_table_like()?.get(k)?,
            crate::config::keypath::Segment::Index(_) => return None,
        };
    }
    (!item.is_none()).then_some(item)
}

/// `item_at`, mutable.
pub fn item_at_mut<'a>(
    root: &'a mut toml_edit::Item,
    path: &KeyPath,
) -> Option<&'a mut toml_edit::Item> {
    let mut item = root;
    for seg in path.segments() {
        item = match seg {
            crate::config::keypath::Segment::Key(k) => item.as_table_like_mut()?.get_mut(k)?,
            crate::config::keypath::Segment::Index(_) => return None,
        };
    }
    (!item.is_none()).then_some(item)
}

/// The span of the value at `path` (or of its key, for tables) in a parsed
/// document, found by walking down from `root`: O(depth), no map to build.
pub fn span_in(root: &toml_edit::Item, path: &KeyPath) -> Option<std::ops::Range<usize>> {
    let mut item = root;
    let mut key_span = None;
    for seg in path.segments() {
        match seg {
            crate::config::keypath::Segment::Key(k) => {
                let (key, child) = item.as_table_like()?.get_key_value(k)?;
                key_span = key.span();
                item = child;
            }
            crate::config::keypath::Segment::Index(i) => {
                let v = item.as_array()?.get(*i)?;
                return v.span();
            }
        }
    }
    let value_span = match item {
        toml_edit::Item::Value(v) => v.span(),
        _ => None,
    };
    value_span.or(key_span).or_else(|| item.span())
}

/// Where each key sits in a parsed file: the key's span and its value's span.
#[derive(Debug, Clone, Default)]
pub struct SpanMap {
    pub keys: BTreeMap<KeyPath, (std::ops::Range<usize>, Option<std::ops::Range<usize>>)>,
}

impl SpanMap {
    pub fn from_document(doc: &toml_edit::ImDocument<&str>) -> SpanMap {
        let mut map = SpanMap::default();
        walk_table(doc.as_table(), &KeyPath::root(), &mut map);
        map
    }

    /// The span of `path` or, failing that, of its nearest ancestor.
    pub fn locate(&self, path: &KeyPath) -> Option<std::ops::Range<usize>> {
        let mut p = Some(path.clone());
        while let Some(cur) = p {
            if let Some((k, v)) = self.keys.get(&cur) {
                return Some(if cur == *path {
                    v.clone().unwrap_or_else(|| k.clone())
                } else {
                    k.clone()
                });
            }
            p = cur.parent();
        }
        None
    }

    /// The key's own span (for "unknown key" carets).
    pub fn key_span(&self, path: &KeyPath) -> Option<std::ops::Range<usize>> {
        self.keys.get(path).map(|(k, _)| k.clone())
    }
}

fn walk_table(table: &toml_edit::Table, base: &KeyPath, map: &mut SpanMap) {
    for (key, item) in table.iter() {
        let path = base.child(key);
        let key_span = table.key(key).and_then(|k| k.span());
        let value_span = item.span().or_else(|| match item {
            toml_edit::Item::Value(v) => v.span(),
            _ => None,
        });
        if let Some(ks) = key_span.clone().or(value_span.clone()) {
            map.keys.insert(path.clone(), (ks, value_span));
        }
        match item {
            toml_edit::Item::Table(t) => walk_table(t, &path, map),
            toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => walk_inline(t, &path, map),
            toml_edit::Item::Value(toml_edit::Value::Array(a)) => walk_array(a, &path, map),
            toml_edit::Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    let p = path.index(i);
                    if let Some(s) = t.span() {
                        map.keys.insert(p.clone(), (s, None));
                    }
                    walk_table(t, &p, map);
                }
            }
            _ => {}
        }
    }
}

fn walk_inline(table: &toml_edit::InlineTable, base: &KeyPath, map: &mut SpanMap) {
    for (key, value) in table.iter() {
        let path = base.child(key);
        let key_span = table.key(key).and_then(|k| k.span());
        if let Some(ks) = key_span.or(value.span()) {
            map.keys.insert(path.clone(), (ks, value.span()));
        }
        match value {
            toml_edit::Value::InlineTable(t) => walk_inline(t, &path, map),
            toml_edit::Value::Array(a) => walk_array(a, &path, map),
            _ => {}
        }
    }
}

fn walk_array(array: &toml_edit::Array, base: &KeyPath, map: &mut SpanMap) {
    for (i, value) in array.iter().enumerate() {
        let path = base.index(i);
        if let Some(s) = value.span() {
            map.keys.insert(path.clone(), (s.clone(), Some(s)));
        }
        match value {
            toml_edit::Value::InlineTable(t) => walk_inline(t, &path, map),
            toml_edit::Value::Array(a) => walk_array(a, &path, map),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_agrees_with_a_scan() {
        let text = "a = 1\n\nb = \"é\"\nc = 3";
        let idx = LineIndex::new(text);
        for off in 0..=text.len() {
            if text.is_char_boundary(off) {
                assert_eq!(idx.pos(off), offset_to_pos(text, off), "offset {off}");
            }
        }
    }
}
