//! The model on top of the engine: it plans sub-queries ([`ModelPlanner`]) and writes the
//! synthesis in a shape that can be checked ([`ModelSynthesizer`]), every call going through
//! [`ModelCaller`], which journals answers, replays them on resume and keeps the budget.

pub mod caller;
pub mod planner;
pub mod synthesizer;

pub use caller::{CallFailure, ModelCaller};
pub use planner::ModelPlanner;
pub use synthesizer::{ModelSynthesizer, OnUnsupported};
