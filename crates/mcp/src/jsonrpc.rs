//! JSON-RPC 2.0 framing of MCP messages: one message per POST (batches are gone since MCP
//! 2025-06-18), a request has an `id`, a notification none.

use serde_json::{Value, json};

/// Invalid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// Not a JSON-RPC request.
pub const INVALID_REQUEST: i64 = -32600;
/// No such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Bad parameters (and unknown tools, as the MCP specification asks).
pub const INVALID_PARAMS: i64 = -32602;
/// The server failed.
pub const INTERNAL_ERROR: i64 = -32603;
/// The caller is over its rate limit (an implementation-defined server error).
pub const RATE_LIMITED: i64 = -32029;

/// What a POSTed body is.
#[derive(Debug)]
pub enum Message {
    /// A request: answer it.
    Request { id: Value, method: String, params: Value },
    /// A notification or a response to a server request: acknowledge with 202.
    Notice,
}

/// Reads one message; `Err` is the error response to send (with `id: null`).
pub fn parse(body: &[u8]) -> Result<Message, Value> {
    let v: Value = serde_json::from_slice(body).map_err(|_| error(&Value::Null, PARSE_ERROR, "Parse error", None))?;
    let Some(obj) = v.as_object() else {
        return Err(error(&Value::Null, INVALID_REQUEST, "A message must be one JSON-RPC 2.0 object", None));
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(error(&Value::Null, INVALID_REQUEST, "jsonrpc must be \"2.0\"", None));
    }
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        // A response to a request of ours (we send none) or junk without a method.
        return if obj.contains_key("result") || obj.contains_key("error") {
            Ok(Message::Notice)
        } else {
            Err(error(&Value::Null, INVALID_REQUEST, "method is missing", None))
        };
    };
    let Some(id) = obj.get("id") else { return Ok(Message::Notice) };
    if !(id.is_string() || id.is_i64() || id.is_u64()) {
        return Err(error(&Value::Null, INVALID_REQUEST, "id must be a string or an integer", None));
    }
    Ok(Message::Request {
        id: id.clone(),
        method: method.to_string(),
        params: obj.get("params").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A success response.
#[must_use]
pub fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// An error response.
#[must_use]
pub fn error(id: &Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut e = json!({"code": code, "message": message});
    if let Some(d) = data {
        e["data"] = d;
    }
    json!({"jsonrpc": "2.0", "id": id, "error": e})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_notifications_and_junk() {
        match parse(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#) {
            Ok(Message::Request { id, method, params }) => {
                assert_eq!((id, method.as_str(), params), (json!(7), "ping", json!({})));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#), Ok(Message::Notice)));
        assert!(matches!(parse(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#), Ok(Message::Notice)));
        for (body, code) in [
            (&b"{nope"[..], PARSE_ERROR),
            (br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, INVALID_REQUEST),
            (br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, INVALID_REQUEST),
            (br#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#, INVALID_REQUEST),
            (br#"{"jsonrpc":"2.0","id":1}"#, INVALID_REQUEST),
        ] {
            let e = parse(body).unwrap_err();
            assert_eq!(e["error"]["code"], code, "{}", String::from_utf8_lossy(body));
            assert_eq!(e["id"], Value::Null);
        }
    }
}
