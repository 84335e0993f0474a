//! Servers that cadre's tests start on 127.0.0.1: a scripted model server that speaks the
//! Responses and Chat Completions wires, and a fixture web for the research engine. Nothing here
//! reaches beyond the loopback interface or reads an API key.

pub mod fixture_web;
pub mod model_server;
