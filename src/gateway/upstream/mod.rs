//! Calling a provider in its own protocol, and answering the client in OpenAI's.
//!
//! Per API style (`models.providers.<id>.api`):
//! - `openai-completions`: `POST {base_url}/chat/completions` with
//!   `Authorization: Bearer KEY`; the request goes out as the client sent it (the
//!   `model` replaced by the provider's model id) and the answer comes back as is,
//!   streamed bytes included (OpenAI API reference, "Create chat completion").
//! - `anthropic-messages`: `POST {base_url}/v1/messages` with `x-api-key` and
//!   `anthropic-version`; see [`anthropic`].
//! - `ollama`: `POST {base_url}/api/chat`; see [`ollama`].
//!
//! `openai-responses` providers are called through their chat-completions endpoint,
//! which every such provider also serves.

pub mod anthropic;
pub mod ollama;

use bytes::Bytes;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::config::model::ApiStyle;

use super::state::Upstream;

/// `anthropic-version` sent to Anthropic-style providers: the stable version of the
/// Messages API (Anthropic API reference, "Versions").
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The URL a chat request goes to for a base URL and API style.
pub fn chat_url(base_url: &str, api: ApiStyle) -> String {
    let base = base_url.trim().trim_end_matches('/');
    match api {
        ApiStyle::OpenaiCompletions | ApiStyle::OpenaiResponses => {
            format!("{base}/chat/completions")
        }
        ApiStyle::AnthropicMessages => format!("{base}/v1/messages"),
        ApiStyle::Ollama => format!("{base}/api/chat"),
    }
}

/// The request body for `up` in its own protocol. `req` is the client's
/// chat-completions body (an object with a `messages` array, checked by the caller).
pub fn request_body(api: ApiStyle, req: &Value, model: &str, stream: bool) -> Value {
    match api {
        ApiStyle::OpenaiCompletions | ApiStyle::OpenaiResponses => {
            let mut body = req.clone();
            body["model"] = Value::String(model.to_string());
            body
        }
        ApiStyle::AnthropicMessages => anthropic::request(req, model, stream),
        ApiStyle::Ollama => ollama::request(req, model, stream),
    }
}

/// A POST to `up` with its key in the header its style expects, the config's extra
/// headers, and `body`.
pub fn build(
    client: &reqwest::Client,
    up: &Upstream,
    url: &str,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    let mut rb = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    let key = up
        .key
        .as_ref()
        .map(|k| k.expose_secret())
        .filter(|k| !k.is_empty());
    match up.api {
        ApiStyle::AnthropicMessages => {
            rb = rb.header("anthropic-version", ANTHROPIC_VERSION);
            if let Some(k) = key {
                rb = rb.header("x-api-key", k);
            }
        }
        _ => {
            if let Some(k) = key {
                rb = rb.bearer_auth(k);
            }
        }
    }
    for (k, v) in &up.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    rb
}

/// A provider's whole (non-streamed) answer as an OpenAI `chat.completion`. Err: the
/// body is not what the style promises (reported as a provider failure).
pub fn response_body(api: ApiStyle, body: Bytes, model_ref: &str) -> Result<Bytes, String> {
    match api {
        ApiStyle::OpenaiCompletions | ApiStyle::OpenaiResponses => Ok(body),
        ApiStyle::AnthropicMessages => {
            let v: Value = serde_json::from_slice(&body)
                .map_err(|e| format!("the provider's answer is not JSON: {e}"))?;
            Ok(Bytes::from(anthropic::response(&v, model_ref).to_string()))
        }
        ApiStyle::Ollama => {
            let v: Value = serde_json::from_slice(&body)
                .map_err(|e| format!("the provider's answer is not JSON: {e}"))?;
            Ok(Bytes::from(ollama::response(&v, model_ref).to_string()))
        }
    }
}

/// Turns a provider's stream into OpenAI's: `data: {chat.completion.chunk}\n\n`
/// events ending in `data: [DONE]\n\n`.
pub enum StreamTranslator {
    /// OpenAI-style providers already stream OpenAI's format: bytes pass through.
    Passthrough,
    Anthropic(anthropic::Stream),
    Ollama(ollama::Stream),
}

impl StreamTranslator {
    pub fn new(api: ApiStyle, model_ref: &str) -> StreamTranslator {
        match api {
            ApiStyle::OpenaiCompletions | ApiStyle::OpenaiResponses => {
                StreamTranslator::Passthrough
            }
            ApiStyle::AnthropicMessages => {
                StreamTranslator::Anthropic(anthropic::Stream::new(model_ref))
            }
            ApiStyle::Ollama => StreamTranslator::Ollama(ollama::Stream::new(model_ref)),
        }
    }

    /// The client's bytes for one chunk of the provider's (possibly empty).
    pub fn feed(&mut self, chunk: Bytes) -> Bytes {
        match self {
            StreamTranslator::Passthrough => chunk,
            StreamTranslator::Anthropic(s) => s.feed(&chunk),
            StreamTranslator::Ollama(s) => s.feed(&chunk),
        }
    }

    /// Whatever is still owed when the provider's stream ends.
    pub fn finish(&mut self) -> Bytes {
        match self {
            StreamTranslator::Passthrough => Bytes::new(),
            StreamTranslator::Anthropic(s) => s.finish(),
            StreamTranslator::Ollama(s) => s.finish(),
        }
    }
}

/// Seconds since the Unix epoch, for `created`.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One `data: {chunk}\n\n` event in OpenAI's stream format.
pub fn chunk_event(
    id: &str,
    created: u64,
    model: &str,
    delta: Value,
    finish_reason: Option<&str>,
) -> String {
    let c = json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    });
    format!("data: {c}\n\n")
}

/// The end of an OpenAI stream.
pub const DONE: &str = "data: [DONE]\n\n";

/// The text of an OpenAI message `content`: a string, or the `text` of its parts.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// OpenAI's `stop` (a string or a list of strings) as a list.
pub fn stop_list(stop: Option<&Value>) -> Option<Vec<Value>> {
    match stop? {
        Value::String(s) => Some(vec![Value::String(s.clone())]),
        Value::Array(a) if !a.is_empty() => Some(a.clone()),
        _ => None,
    }
}

/// Splits a byte stream into complete lines (`\n`-terminated, `\r` dropped),
/// keeping an incomplete tail for the next chunk.
#[derive(Default)]
pub struct Lines {
    buf: Vec<u8>,
}

impl Lines {
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=i).collect();
            let line = String::from_utf8_lossy(&line);
            out.push(line.trim_end_matches(['\n', '\r']).to_string());
        }
        out
    }

    /// The last line, when the stream ended without a newline.
    pub fn rest(&mut self) -> Option<String> {
        if self.buf.is_empty() {
            return None;
        }
        let s = String::from_utf8_lossy(&self.buf).trim_end().to_string();
        self.buf.clear();
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_per_style() {
        assert_eq!(
            chat_url("https://api.moonshot.ai/v1/", ApiStyle::OpenaiCompletions),
            "https://api.moonshot.ai/v1/chat/completions"
        );
        assert_eq!(
            chat_url("https://api.kimi.com/coding/", ApiStyle::AnthropicMessages),
            "https://api.kimi.com/coding/v1/messages"
        );
        assert_eq!(
            chat_url("http://127.0.0.1:11434", ApiStyle::Ollama),
            "http://127.0.0.1:11434/api/chat"
        );
    }

    #[test]
    fn lines_keep_the_tail() {
        let mut l = Lines::default();
        assert_eq!(l.push(b"a\r\nb"), vec!["a"]);
        assert_eq!(l.push(b"c\n"), vec!["bc"]);
        assert_eq!(l.rest(), None);
    }
}
