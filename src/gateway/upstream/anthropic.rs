//! OpenAI chat completions ⇄ Anthropic Messages (Anthropic API reference, "Messages"
//! and "Streaming Messages"; the same protocol Kimi Coding serves).
//!
//! Request: `system`/`developer` messages become the top-level `system` text;
//! `user` and `assistant` keep their role (text parts and `image_url` parts become
//! Anthropic content blocks); `tool` results are sent as user text (tool calling is
//! not translated); `max_tokens` (or `max_completion_tokens`, else
//! [`DEFAULT_MAX_TOKENS`], since Anthropic requires it), `stop` → `stop_sequences`,
//! `temperature` (clamped to Anthropic's 0–1), `top_p`.
//!
//! Response: the text blocks joined into one assistant message; `stop_reason`
//! `end_turn`/`stop_sequence` → `stop`, `max_tokens` → `length`, `tool_use` →
//! `tool_calls`; `usage.input_tokens`/`output_tokens` → `prompt_tokens`/
//! `completion_tokens`.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{DONE, Lines, chunk_event, content_text, now_unix, stop_list};

/// `max_tokens` when the client gives none: Anthropic requires one.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

fn content(c: &Value) -> Value {
    match c {
        Value::Array(parts) => Value::Array(
            parts
                .iter()
                .filter_map(|p| match p.get("type").and_then(Value::as_str) {
                    Some("text") => Some(
                        json!({"type": "text", "text": p.get("text").cloned().unwrap_or_default()}),
                    ),
                    Some("image_url") => {
                        let url = p.pointer("/image_url/url").and_then(Value::as_str)?;
                        Some(image(url))
                    }
                    _ => None,
                })
                .collect(),
        ),
        Value::Null => Value::String(String::new()),
        other => Value::String(content_text(other)),
    }
}

/// `data:image/png;base64,AAAA` → a base64 source; anything else → a URL source.
fn image(url: &str) -> Value {
    if let Some(rest) = url.strip_prefix("data:")
        && let Some((media, data)) = rest.split_once(";base64,")
    {
        return json!({"type": "image", "source": {"type": "base64", "media_type": media, "data": data}});
    }
    json!({"type": "image", "source": {"type": "url", "url": url}})
}

/// The Messages request for a chat-completions request.
pub fn request(req: &Value, model: &str, stream: bool) -> Value {
    let mut system: Vec<String> = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    for m in req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let c = m.get("content").unwrap_or(&Value::Null);
        match m.get("role").and_then(Value::as_str).unwrap_or("user") {
            "system" | "developer" => system.push(content_text(c)),
            "assistant" => messages.push(json!({"role": "assistant", "content": content(c)})),
            "tool" => messages.push(json!({"role": "user", "content": content_text(c)})),
            _ => messages.push(json!({"role": "user", "content": content(c)})),
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert("messages".into(), Value::Array(messages));
    let max = req
        .get("max_tokens")
        .or_else(|| req.get("max_completion_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MAX_TOKENS);
    body.insert("max_tokens".into(), max.into());
    if !system.is_empty() {
        body.insert("system".into(), system.join("\n\n").into());
    }
    if let Some(stops) = stop_list(req.get("stop")) {
        body.insert("stop_sequences".into(), Value::Array(stops));
    }
    if let Some(t) = req.get("temperature").and_then(Value::as_f64) {
        // OpenAI's range is 0–2, Anthropic's 0–1.
        body.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
    }
    if let Some(p) = req.get("top_p").and_then(Value::as_f64) {
        body.insert("top_p".into(), json!(p));
    }
    if stream {
        body.insert("stream".into(), true.into());
    }
    Value::Object(body)
}

/// Anthropic's `stop_reason` as OpenAI's `finish_reason`.
pub fn finish_reason(stop: Option<&str>) -> &'static str {
    match stop {
        Some("max_tokens") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ => "stop",
    }
}

/// A Messages answer as a `chat.completion`.
pub fn response(v: &Value, model_ref: &str) -> Value {
    let text: String = v
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    let input = v
        .pointer("/usage/input_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let output = v
        .pointer("/usage/output_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let id = v.get("id").and_then(Value::as_str).unwrap_or("msg");
    json!({
        "id": format!("chatcmpl-{id}"),
        "object": "chat.completion",
        "created": now_unix(),
        "model": model_ref,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish_reason(v.get("stop_reason").and_then(Value::as_str)),
        }],
        "usage": {"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output},
    })
}

/// Server-sent events of a streamed Messages answer → OpenAI chunks.
pub struct Stream {
    lines: Lines,
    id: String,
    model: String,
    created: u64,
    finish: Option<&'static str>,
    done: bool,
}

impl Stream {
    pub fn new(model_ref: &str) -> Stream {
        Stream {
            lines: Lines::default(),
            id: "chatcmpl-clawctl".into(),
            model: model_ref.to_string(),
            created: now_unix(),
            finish: None,
            done: false,
        }
    }

    /// Only `data:` lines matter: each carries its event's `type`.
    pub fn feed(&mut self, chunk: &[u8]) -> Bytes {
        let mut out = String::new();
        for line in self.lines.push(chunk) {
            self.line(&line, &mut out);
        }
        Bytes::from(out)
    }

    fn line(&mut self, line: &str, out: &mut String) {
        let Some(data) = line.strip_prefix("data:") else {
            return;
        };
        let Ok(ev) = serde_json::from_str::<Value>(data.trim()) else {
            return;
        };
        if self.done {
            return;
        }
        match ev.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                if let Some(id) = ev.pointer("/message/id").and_then(Value::as_str) {
                    self.id = format!("chatcmpl-{id}");
                }
                out.push_str(&chunk_event(
                    &self.id,
                    self.created,
                    &self.model,
                    json!({"role": "assistant", "content": ""}),
                    None,
                ));
            }
            Some("content_block_delta") => {
                if let Some(t) = ev.pointer("/delta/text").and_then(Value::as_str) {
                    out.push_str(&chunk_event(
                        &self.id,
                        self.created,
                        &self.model,
                        json!({"content": t}),
                        None,
                    ));
                }
            }
            Some("message_delta") => {
                let stop = ev.pointer("/delta/stop_reason").and_then(Value::as_str);
                if stop.is_some() {
                    self.finish = Some(finish_reason(stop));
                }
            }
            Some("message_stop") => self.end(out),
            Some("error") => {
                let err = ev.get("error").cloned().unwrap_or_default();
                out.push_str(&format!("data: {}\n\n", json!({"error": err})));
                self.done = true;
                out.push_str(DONE);
            }
            _ => {}
        }
    }

    fn end(&mut self, out: &mut String) {
        if self.done {
            return;
        }
        out.push_str(&chunk_event(
            &self.id,
            self.created,
            &self.model,
            json!({}),
            Some(self.finish.unwrap_or("stop")),
        ));
        out.push_str(DONE);
        self.done = true;
    }

    /// The stream ended: close it properly even if `message_stop` never came.
    pub fn finish(&mut self) -> Bytes {
        let mut out = String::new();
        if let Some(l) = self.lines.rest() {
            self.line(&l, &mut out);
        }
        self.end(&mut out);
        Bytes::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_moves_system_and_stop() {
        let req = json!({
            "model": "x",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            ],
            "stop": "END",
            "temperature": 1.5,
        });
        let r = request(&req, "k2p5", true);
        assert_eq!(r["system"], "be brief");
        assert_eq!(r["messages"][0]["role"], "user");
        assert_eq!(r["messages"][0]["content"][0]["text"], "hi");
        assert_eq!(r["stop_sequences"], json!(["END"]));
        assert_eq!(r["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(r["temperature"], 1.0);
        assert_eq!(r["stream"], true);
    }

    #[test]
    fn stream_events_become_chunks() {
        let mut s = Stream::new("anthropic/m");
        let mut all = String::new();
        for part in [
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"He",
            "llo\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ] {
            all.push_str(std::str::from_utf8(&s.feed(part.as_bytes())).unwrap());
        }
        all.push_str(std::str::from_utf8(&s.finish()).unwrap());
        assert!(all.contains("\"content\":\"Hello\""), "{all}");
        assert!(all.contains("\"finish_reason\":\"length\""), "{all}");
        assert!(all.ends_with("data: [DONE]\n\n"), "{all}");
        assert_eq!(all.matches("[DONE]").count(), 1);
    }
}
