//! OpenAI chat completions ⇄ Ollama's native chat API (`POST /api/chat`, Ollama
//! API docs, "Generate a chat completion").
//!
//! Request: messages with their text content, `stream` always explicit (Ollama
//! streams by default), `options`: `temperature`, `top_p`, `num_predict` (from
//! `max_tokens`), `stop`. Response: `message.content`; `done_reason` `length` →
//! `length`, else `stop`; `prompt_eval_count`/`eval_count` → usage. A streamed
//! answer is newline-delimited JSON, one object per chunk, the last with
//! `done: true`.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{DONE, Lines, chunk_event, content_text, now_unix, stop_list};

pub fn request(req: &Value, model: &str, stream: bool) -> Value {
    let messages: Vec<Value> = req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            json!({
                "role": m.get("role").and_then(Value::as_str).unwrap_or("user"),
                "content": content_text(m.get("content").unwrap_or(&Value::Null)),
            })
        })
        .collect();
    let mut options = Map::new();
    if let Some(t) = req.get("temperature").filter(|v| v.is_number()) {
        options.insert("temperature".into(), t.clone());
    }
    if let Some(p) = req.get("top_p").filter(|v| v.is_number()) {
        options.insert("top_p".into(), p.clone());
    }
    if let Some(n) = req
        .get("max_tokens")
        .or_else(|| req.get("max_completion_tokens"))
        .filter(|v| v.is_number())
    {
        options.insert("num_predict".into(), n.clone());
    }
    if let Some(s) = stop_list(req.get("stop")) {
        options.insert("stop".into(), Value::Array(s));
    }
    let mut body = json!({"model": model, "messages": messages, "stream": stream});
    if !options.is_empty() {
        body["options"] = Value::Object(options);
    }
    body
}

fn finish_reason(v: &Value) -> &'static str {
    match v.get("done_reason").and_then(Value::as_str) {
        Some("length") => "length",
        _ => "stop",
    }
}

pub fn response(v: &Value, model_ref: &str) -> Value {
    let text = v
        .pointer("/message/content")
        .and_then(Value::as_str)
        .unwrap_or("");
    let input = v
        .get("prompt_eval_count")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let output = v.get("eval_count").and_then(Value::as_u64).unwrap_or(0);
    json!({
        "id": format!("chatcmpl-ollama-{}", now_unix()),
        "object": "chat.completion",
        "created": now_unix(),
        "model": model_ref,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish_reason(v),
        }],
        "usage": {"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output},
    })
}

/// Newline-delimited JSON → OpenAI chunks.
pub struct Stream {
    lines: Lines,
    id: String,
    model: String,
    created: u64,
    started: bool,
    done: bool,
}

impl Stream {
    pub fn new(model_ref: &str) -> Stream {
        let created = now_unix();
        Stream {
            lines: Lines::default(),
            id: format!("chatcmpl-ollama-{created}"),
            model: model_ref.to_string(),
            created,
            started: false,
            done: false,
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Bytes {
        let mut out = String::new();
        for l in self.lines.push(chunk) {
            self.line(&l, &mut out);
        }
        Bytes::from(out)
    }

    fn line(&mut self, line: &str, out: &mut String) {
        let Ok(v) = serde_json::from_str::<Value>(line.trim()) else {
            return;
        };
        if self.done {
            return;
        }
        if let Some(err) = v.get("error") {
            out.push_str(&format!("data: {}\n\n", json!({"error": {"message": err}})));
            out.push_str(DONE);
            self.done = true;
            return;
        }
        let mut delta = json!({});
        if !self.started {
            delta["role"] = "assistant".into();
            self.started = true;
        }
        if let Some(t) = v.pointer("/message/content").and_then(Value::as_str) {
            delta["content"] = t.into();
        }
        let done = v.get("done").and_then(Value::as_bool).unwrap_or(false);
        if delta.as_object().is_some_and(|o| !o.is_empty()) {
            out.push_str(&chunk_event(
                &self.id,
                self.created,
                &self.model,
                delta,
                None,
            ));
        }
        if done {
            out.push_str(&chunk_event(
                &self.id,
                self.created,
                &self.model,
                json!({}),
                Some(finish_reason(&v)),
            ));
            out.push_str(DONE);
            self.done = true;
        }
    }

    pub fn finish(&mut self) -> Bytes {
        let mut out = String::new();
        if let Some(l) = self.lines.rest() {
            self.line(&l, &mut out);
        }
        if !self.done {
            out.push_str(&chunk_event(
                &self.id,
                self.created,
                &self.model,
                json!({}),
                Some("stop"),
            ));
            out.push_str(DONE);
            self.done = true;
        }
        Bytes::from(out)
    }
}
