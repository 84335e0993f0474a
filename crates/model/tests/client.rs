//! The client against the scripted model server, on both wires.

use cadre_model::{ModelClient, ModelError, ModelEvent, Prompt, ProviderConfig, WireApi};
use cadre_protocol::{ResponseItem, TokenUsage, ToolSpec};
use cadre_test_support::model_server::{ModelServer, Reply, ScriptedUsage, Wire};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const WIRES: [WireApi; 2] = [WireApi::Responses, WireApi::Chat];

fn provider(server: &ModelServer, wire_api: WireApi) -> ProviderConfig {
    ProviderConfig {
        name: "scripted".into(),
        base_url: server.base_url(),
        wire_api,
        env_key: None,
        http_headers: BTreeMap::new(),
        query_params: BTreeMap::new(),
        request_max_retries: Some(3),
        stream_idle_timeout_ms: Some(300),
        request_max_wait_ms: None,
    }
}

fn fast(client: ModelClient) -> ModelClient {
    client.with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

fn client(server: &ModelServer, wire_api: WireApi) -> ModelClient {
    fast(ModelClient::new(provider(server, wire_api)).expect("client"))
}

fn prompt() -> Prompt {
    Prompt {
        model: "test-model".into(),
        instructions: "You are a test.".into(),
        input: vec![ResponseItem::user("hello")],
        tools: vec![ToolSpec {
            name: "shell".into(),
            description: "Runs a shell command".into(),
            parameters: json!({"type": "object", "properties": {"command": {"type": "string"}}}),
        }],
        parallel_tool_calls: true,
        max_output_tokens: None,
    }
}

/// Every event until the stream ends, and the error it ended with, if any.
async fn collect(client: &ModelClient, prompt: &Prompt) -> (Vec<ModelEvent>, Option<ModelError>) {
    let mut stream = client.stream(prompt).await.expect("stream starts");
    let mut events = Vec::new();
    while let Some(event) = stream.recv().await {
        match event {
            Ok(event) => events.push(event),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

/// The events after the last `Retrying`: the attempt that counted.
fn final_attempt(events: &[ModelEvent]) -> &[ModelEvent] {
    let start = events
        .iter()
        .rposition(|e| matches!(e, ModelEvent::Retrying { .. }))
        .map_or(0, |i| i + 1);
    &events[start..]
}

fn text_of(events: &[ModelEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::TextDelta { delta } => Some(delta.as_str()),
            _ => None,
        })
        .collect()
}

fn items_of(events: &[ModelEvent]) -> Vec<ResponseItem> {
    events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::ItemDone(item) => Some(item.clone()),
            _ => None,
        })
        .collect()
}

fn retries_of(events: &[ModelEvent]) -> Vec<(u32, u32, u64, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::Retrying {
                attempt,
                max_attempts,
                delay_ms,
                reason,
            } => Some((*attempt, *max_attempts, *delay_ms, reason.clone())),
            _ => None,
        })
        .collect()
}

fn call(call_id: &str, name: &str, arguments: &Value) -> ResponseItem {
    ResponseItem::FunctionCall {
        id: None,
        call_id: call_id.into(),
        name: name.into(),
        arguments: arguments.to_string(),
    }
}

/// Function-call ids differ by wire (the Responses API has item ids too); compare without them.
fn without_item_ids(items: Vec<ResponseItem>) -> Vec<ResponseItem> {
    items
        .into_iter()
        .map(|item| match item {
            ResponseItem::FunctionCall {
                call_id,
                name,
                arguments,
                ..
            } => ResponseItem::FunctionCall {
                id: None,
                call_id,
                name,
                arguments,
            },
            ResponseItem::Reasoning {
                summary,
                encrypted_content,
                ..
            } => ResponseItem::Reasoning {
                id: None,
                summary,
                encrypted_content,
            },
            other => other,
        })
        .collect()
}

fn completed(events: &[ModelEvent]) -> (Option<String>, Option<TokenUsage>) {
    match events.last() {
        Some(ModelEvent::Completed {
            response_id, usage, ..
        }) => (response_id.clone(), *usage),
        other => panic!("the stream did not end with Completed: {other:?}"),
    }
}

#[tokio::test]
async fn streams_a_text_answer_on_both_wires() {
    for wire in WIRES {
        let server = ModelServer::start(vec![Reply::text("Hello there, friend.")]);
        let (events, error) = collect(&client(&server, wire), &prompt()).await;
        assert!(error.is_none(), "{wire:?}: {error:?}");
        assert_eq!(text_of(&events), "Hello there, friend.", "{wire:?}");
        assert!(
            events
                .iter()
                .filter(|e| matches!(e, ModelEvent::TextDelta { .. }))
                .count()
                > 1,
            "{wire:?}: the text arrives in several deltas"
        );
        assert_eq!(
            items_of(&events),
            vec![ResponseItem::assistant("Hello there, friend.")]
        );
        let (response_id, usage) = completed(&events);
        assert!(response_id.is_some(), "{wire:?}");
        assert_eq!(
            usage,
            Some(TokenUsage {
                input_tokens: 10,
                output_tokens: 5,
                total_tokens: 15,
                ..TokenUsage::default()
            }),
            "{wire:?}"
        );

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        let expected_wire = match wire {
            WireApi::Responses => Wire::Responses,
            WireApi::Chat => Wire::Chat,
        };
        assert_eq!(request.wire(), expected_wire);
        assert_eq!(request.model(), Some("test-model"));
        assert!(request.is_stream());
        assert_eq!(request.instructions().as_deref(), Some("You are a test."));
        assert_eq!(request.last_user_text().as_deref(), Some("hello"));
        assert_eq!(request.tool_names(), vec!["shell".to_string()]);
        assert_eq!(request.header("authorization"), None);
    }
}

#[tokio::test]
async fn single_and_parallel_tool_calls_become_function_call_items() {
    for wire in WIRES {
        let server = ModelServer::start(vec![
            Reply::tool_call("shell", json!({"command": "ls -la"})),
            Reply::tool_calls(vec![
                ("read_file", json!({"path": "a.txt"})),
                ("read_file", json!({"path": "b.txt"})),
            ])
            .with_text("Reading both."),
        ]);
        let client = client(&server, wire);
        let (events, error) = collect(&client, &prompt()).await;
        assert!(error.is_none(), "{wire:?}: {error:?}");
        assert_eq!(
            without_item_ids(items_of(&events)),
            vec![call("call_1", "shell", &json!({"command": "ls -la"}))],
            "{wire:?}"
        );

        let (events, error) = collect(&client, &prompt()).await;
        assert!(error.is_none(), "{wire:?}: {error:?}");
        assert_eq!(text_of(&events), "Reading both.");
        assert_eq!(
            without_item_ids(items_of(&events)),
            vec![
                ResponseItem::assistant("Reading both."),
                call("call_2", "read_file", &json!({"path": "a.txt"})),
                call("call_3", "read_file", &json!({"path": "b.txt"})),
            ],
            "{wire:?}"
        );
        assert_eq!(server.replies_left(), 0);
    }
}

#[tokio::test]
async fn tool_outputs_are_sent_back_on_both_wires() {
    for wire in WIRES {
        let server = ModelServer::start(vec![Reply::text("ok")]);
        let mut prompt = prompt();
        prompt.input.extend([
            ResponseItem::FunctionCall {
                id: Some("fc_1".into()),
                call_id: "call_7".into(),
                name: "shell".into(),
                arguments: "{\"command\":\"ls\"}".into(),
            },
            ResponseItem::FunctionCallOutput {
                call_id: "call_7".into(),
                output: "a.txt\nb.txt".into(),
            },
        ]);
        let (_, error) = collect(&client(&server, wire), &prompt).await;
        assert!(error.is_none(), "{wire:?}: {error:?}");
        let request = &server.requests()[0];
        assert_eq!(
            request.function_calls(),
            vec![(
                "call_7".to_string(),
                "shell".to_string(),
                "{\"command\":\"ls\"}".to_string()
            )]
        );
        assert_eq!(
            request.tool_outputs(),
            vec![("call_7".to_string(), "a.txt\nb.txt".to_string())]
        );
    }
}

#[tokio::test]
async fn reasoning_and_detailed_usage_are_reported() {
    let usage = ScriptedUsage {
        input_tokens: 1200,
        output_tokens: 300,
        cached_input_tokens: 1000,
        reasoning_tokens: 250,
    };
    for wire in WIRES {
        let server = ModelServer::start(vec![
            Reply::text("The answer is 4.")
                .with_reasoning("Two plus two is four.")
                .with_full_usage(usage),
        ]);
        let (events, error) = collect(&client(&server, wire), &prompt()).await;
        assert!(error.is_none(), "{wire:?}: {error:?}");
        let reasoning: String = events
            .iter()
            .filter_map(|e| match e {
                ModelEvent::ReasoningDelta { delta } => Some(delta.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(reasoning, "Two plus two is four.", "{wire:?}");
        assert_eq!(
            without_item_ids(items_of(&events)),
            vec![
                ResponseItem::Reasoning {
                    id: None,
                    summary: vec!["Two plus two is four.".into()],
                    encrypted_content: None,
                },
                ResponseItem::assistant("The answer is 4."),
            ],
            "{wire:?}"
        );
        assert_eq!(
            completed(&events).1,
            Some(TokenUsage {
                input_tokens: 1200,
                cached_input_tokens: 1000,
                output_tokens: 300,
                reasoning_output_tokens: 250,
                total_tokens: 1500,
            }),
            "{wire:?}"
        );
    }
}

#[tokio::test]
async fn a_server_that_ignores_stream_is_understood() {
    for wire in WIRES {
        let server = ModelServer::start(vec![
            Reply::tool_call("shell", json!({"command": "pwd"}))
                .with_text("Checking.")
                .with_usage(40, 9),
        ])
        .ignoring_stream();
        let (events, error) = collect(&client(&server, wire), &prompt()).await;
        assert!(error.is_none(), "{wire:?}: {error:?}");
        assert_eq!(text_of(&events), "Checking.");
        assert_eq!(
            without_item_ids(items_of(&events)),
            vec![
                ResponseItem::assistant("Checking."),
                call("call_1", "shell", &json!({"command": "pwd"})),
            ],
            "{wire:?}"
        );
        assert_eq!(completed(&events).1.map(|u| u.input_tokens), Some(40));
    }
}

#[tokio::test]
async fn auth_headers_and_query_params_are_sent() {
    for wire in WIRES {
        let server = ModelServer::start(vec![Reply::text("hi")]);
        let mut provider = provider(&server, wire);
        provider
            .http_headers
            .insert("X-Title".into(), "cadre tests".into());
        provider
            .query_params
            .insert("api-version".into(), "2025-04-01-preview".into());
        let client = fast(ModelClient::with_api_key(provider, "sk-test-123").expect("client"));
        let completion = client.complete(&prompt()).await.expect("completes");
        assert_eq!(completion.items, vec![ResponseItem::assistant("hi")]);
        let request = &server.requests()[0];
        assert_eq!(request.header("authorization"), Some("Bearer sk-test-123"));
        assert_eq!(request.header("x-title"), Some("cadre tests"));
        assert_eq!(request.query, "api-version=2025-04-01-preview");
    }
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    for wire in WIRES {
        let server = ModelServer::start(vec![
            Reply::http_error(
                429,
                json!({"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}),
            )
            .retry_after(0),
            Reply::http_error(500, json!({"error": {"message": "internal"}})),
            Reply::http_error(503, json!({"error": {"message": "overloaded"}})).retry_after_ms(2),
            Reply::text("finally"),
        ]);
        let (events, error) = collect(&client(&server, wire), &prompt()).await;
        assert!(error.is_none(), "{wire:?}: {error:?}");
        let retries = retries_of(&events);
        assert_eq!(retries.len(), 3, "{wire:?}: {retries:?}");
        assert_eq!((retries[0].0, retries[0].1, retries[0].2), (1, 3, 0));
        assert!(retries[0].3.contains("429"), "{}", retries[0].3);
        assert!(retries[1].3.contains("500"), "{}", retries[1].3);
        assert_eq!(
            (retries[2].0, retries[2].2),
            (3, 2),
            "retry-after-ms is honoured"
        );
        assert_eq!(text_of(final_attempt(&events)), "finally");
        assert_eq!(server.requests().len(), 4);
    }
}

#[tokio::test]
async fn cut_off_and_silent_streams_are_retried() {
    for wire in WIRES {
        let server = ModelServer::start(vec![
            Reply::cut_off(),
            Reply::silent(),
            Reply::failed("server_error", "The server had an error"),
            Reply::text("complete answer"),
        ]);
        let (events, error) = collect(&client(&server, wire), &prompt()).await;
        assert!(error.is_none(), "{wire:?}: {error:?}");
        let first_retry = events
            .iter()
            .position(|e| matches!(e, ModelEvent::Retrying { .. }))
            .expect("a retry");
        assert!(
            !text_of(&events[..first_retry]).is_empty(),
            "{wire:?}: the cut-off attempt streamed some text first"
        );
        let reasons: Vec<String> = retries_of(&events).into_iter().map(|r| r.3).collect();
        assert_eq!(reasons.len(), 3, "{wire:?}: {reasons:?}");
        assert!(reasons[1].contains("silent"), "{}", reasons[1]);
        assert!(
            reasons[2].contains("The server had an error"),
            "{}",
            reasons[2]
        );
        assert_eq!(text_of(final_attempt(&events)), "complete answer");
        assert_eq!(
            items_of(final_attempt(&events)),
            vec![ResponseItem::assistant("complete answer")]
        );
    }
}

#[tokio::test]
async fn retries_run_out() {
    for wire in WIRES {
        let server = ModelServer::start(vec![
            Reply::http_error(502, json!({"error": {"message": "bad gateway"}})),
            Reply::http_error(502, json!({"error": {"message": "bad gateway"}})),
            Reply::http_error(502, json!({"error": {"message": "still bad"}})),
        ]);
        let mut provider = provider(&server, wire);
        provider.request_max_retries = Some(2);
        let client = fast(ModelClient::new(provider).expect("client"));
        let (events, error) = collect(&client, &prompt()).await;
        assert_eq!(retries_of(&events).len(), 2);
        match error {
            Some(ModelError::RetriesExhausted { attempts, last }) => {
                assert_eq!(attempts, 3);
                assert!(last.contains("still bad"), "{last}");
            }
            other => panic!("{wire:?}: expected RetriesExhausted, got {other:?}"),
        }
        assert_eq!(server.replies_left(), 0);
    }
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let provider = ProviderConfig {
        name: "nowhere".into(),
        base_url: format!("http://127.0.0.1:{port}/v1"),
        wire_api: WireApi::Chat,
        env_key: None,
        http_headers: BTreeMap::new(),
        query_params: BTreeMap::new(),
        request_max_retries: Some(1),
        stream_idle_timeout_ms: Some(2000),
        request_max_wait_ms: None,
    };
    let client = fast(ModelClient::new(provider).expect("client"));
    let (events, error) = collect(&client, &prompt()).await;
    assert_eq!(retries_of(&events).len(), 1);
    match error {
        Some(ModelError::RetriesExhausted { attempts: 2, last }) => {
            assert!(last.contains("could not reach"), "{last}");
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
}

async fn fails_at_once(wire: WireApi, reply: Reply) -> ModelError {
    let server = ModelServer::start(vec![reply, Reply::text("must not be reached")]);
    let mut provider = provider(&server, wire);
    provider.env_key = Some("CADRE_TEST_PROVIDER_KEY".into());
    let client = fast(ModelClient::with_api_key(provider, "wrong").expect("client"));
    let (events, error) = collect(&client, &prompt()).await;
    assert!(retries_of(&events).is_empty(), "{wire:?}: not retried");
    assert_eq!(server.requests().len(), 1, "{wire:?}: sent once");
    error.unwrap_or_else(|| panic!("{wire:?}: expected an error"))
}

#[tokio::test]
async fn permanent_failures_are_not_retried() {
    for wire in WIRES {
        let unauthorized = fails_at_once(
            wire,
            Reply::http_error(
                401,
                json!({"error": {"message": "Incorrect API key provided"}}),
            ),
        )
        .await;
        match &unauthorized {
            ModelError::Unauthorized { hint } => {
                assert!(hint.contains("CADRE_TEST_PROVIDER_KEY"), "{hint}");
                assert!(hint.contains("Incorrect API key"), "{hint}");
            }
            other => panic!("{wire:?}: expected Unauthorized, got {other:?}"),
        }

        match fails_at_once(
            wire,
            Reply::http_error(404, json!({"error": {"message": "model not found"}})),
        )
        .await
        {
            ModelError::ModelNotFound { model, url } => {
                assert_eq!(model, "test-model");
                assert!(url.starts_with("http://127.0.0.1:"), "{url}");
            }
            other => panic!("{wire:?}: expected ModelNotFound, got {other:?}"),
        }

        match fails_at_once(
            wire,
            Reply::http_error(
                500,
                json!({"error": {"code": 500, "type": "server_error", "message": "Failed to parse tool call arguments as JSON: [json.exception.parse_error.101] parse error at line 1, column 17: syntax error while parsing value - unexpected end of input"}}),
            ),
        )
        .await
        {
            ModelError::UnparseableRequest { status, message } => {
                assert_eq!(status, Some(500));
                assert!(message.contains("Failed to parse tool call"), "{message}");
            }
            other => panic!("{wire:?}: expected UnparseableRequest, got {other:?}"),
        }

        for reply in [
            Reply::context_length_exceeded(),
            Reply::http_error(
                500,
                json!({"error": {"code": 500, "type": "exceed_context_size_error", "message": "the request exceeds the available context size. try increasing the context size or enable context shift", "n_prompt_tokens": 2500, "n_ctx": 2048}}),
            ),
            Reply::failed(
                "context_length_exceeded",
                "Your input exceeds the context window",
            ),
        ] {
            match fails_at_once(wire, reply).await {
                ModelError::ContextLengthExceeded { message } => {
                    assert!(message.contains("context"), "{message}");
                }
                other => panic!("{wire:?}: expected ContextLengthExceeded, got {other:?}"),
            }
        }

        match fails_at_once(wire, Reply::malformed()).await {
            ModelError::MalformedStream(message) => {
                assert!(message.contains("not JSON"), "{message}")
            }
            other => panic!("{wire:?}: expected MalformedStream, got {other:?}"),
        }

        match fails_at_once(
            wire,
            Reply::http_error(422, json!({"error": {"message": "bad temperature"}})),
        )
        .await
        {
            ModelError::Http { status, body } => {
                assert_eq!(status, 422);
                assert!(body.contains("bad temperature"), "{body}");
            }
            other => panic!("{wire:?}: expected Http, got {other:?}"),
        }
    }
}

#[test]
fn a_missing_api_key_is_reported_at_construction() {
    let mut provider = ProviderConfig::builtin("openai").expect("built-in");
    provider.env_key = Some("CADRE_TEST_VARIABLE_THAT_IS_NEVER_SET".into());
    match ModelClient::new(provider) {
        Err(ModelError::MissingApiKey { env_key }) => {
            assert_eq!(env_key, "CADRE_TEST_VARIABLE_THAT_IS_NEVER_SET");
        }
        other => panic!("expected MissingApiKey, got {other:?}"),
    }
}

#[test]
fn an_invalid_base_url_is_a_configuration_error() {
    let mut provider = ProviderConfig::builtin("ollama").expect("built-in");
    provider.base_url = "not a url".into();
    assert!(matches!(
        ModelClient::new(provider),
        Err(ModelError::Config(_))
    ));
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_request() {
    let server = ModelServer::start(vec![Reply::silent(), Reply::text("unused")]);
    let mut provider = provider(&server, WireApi::Responses);
    // Were the request still running, the silent stream would be retried after 100 ms.
    provider.stream_idle_timeout_ms = Some(100);
    let client = fast(ModelClient::new(provider).expect("client"));
    let stream = client.stream(&prompt()).await.expect("stream starts");
    // Wait until the request has arrived, then walk away from it.
    while server.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(stream);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        server.requests().len(),
        1,
        "nothing is retried once dropped"
    );
    assert_eq!(server.replies_left(), 1);
}

#[tokio::test]
async fn a_chat_stream_that_stalls_after_its_finish_reason_is_complete() {
    // A hand-written server: one chunk with a finish reason, then the connection stays open and
    // silent, as some Chat servers do instead of sending `[DONE]`.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let (release, released) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut connection, _) = listener.accept().expect("accept");
        let mut request = [0u8; 4096];
        let _ = connection.read(&mut request);
        let chunk = json!({"id": "chatcmpl-x", "choices": [{"index": 0, "delta": {"content": "all done"}, "finish_reason": "stop"}]});
        write!(
            connection,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: {chunk}\n\n"
        )
        .expect("write");
        connection.flush().expect("flush");
        let _ = released.recv_timeout(Duration::from_secs(10));
    });
    let provider = ProviderConfig {
        name: "stalling".into(),
        base_url: format!("http://{address}/v1"),
        wire_api: WireApi::Chat,
        env_key: None,
        http_headers: BTreeMap::new(),
        query_params: BTreeMap::new(),
        request_max_retries: Some(0),
        stream_idle_timeout_ms: Some(200),
        request_max_wait_ms: None,
    };
    let client = fast(ModelClient::new(provider).expect("client"));
    let (events, error) = collect(&client, &prompt()).await;
    let _ = release.send(());
    server.join().expect("server thread");
    assert!(error.is_none(), "{error:?}");
    assert_eq!(items_of(&events), vec![ResponseItem::assistant("all done")]);
    assert_eq!(completed(&events).0.as_deref(), Some("chatcmpl-x"));
}

#[tokio::test]
async fn a_server_that_never_answers_costs_the_wait_cap_not_every_retry() {
    let server = ModelServer::start(vec![Reply::silent(); 6]);
    let mut provider = provider(&server, WireApi::Responses);
    provider.request_max_retries = Some(4);
    provider.stream_idle_timeout_ms = Some(400);
    provider.request_max_wait_ms = Some(1000);
    let client = fast(ModelClient::new(provider).expect("client"));
    let (events, error) = collect(&client, &prompt()).await;
    match error {
        Some(ModelError::WaitExceeded {
            attempts,
            limit_ms: 1000,
            ref last,
            ..
        }) => {
            assert!(
                attempts <= 3,
                "{attempts} attempts in a 1000 ms cap of 400 ms waits"
            );
            assert!(last.contains("silent"), "{last}");
            let message = error.as_ref().unwrap().to_string();
            assert!(message.contains("request_max_wait_ms"), "{message}");
        }
        other => panic!("expected WaitExceeded, got {other:?}"),
    }
    assert!(retries_of(&events).len() < 4, "{events:?}");
    assert!(server.requests().len() < 5);
}
