//! The limits of a run and the shared state that enforces them: a token (and dollar) budget
//! summed over every agent as usage arrives, and one cancellation that stops every agent with a
//! recorded reason.

use crate::report::{TaskStatus, Usage};
use cadre_core::config::ModelPrice;
use std::sync::Mutex;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Limits set for a run.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// The whole run.
    pub run_timeout: Option<Duration>,
    /// Each agent (a role's own `timeout` applies when this is not set).
    pub task_timeout: Option<Duration>,
    /// Model calls per agent (its turn cap); a role's `max_turns` applies when this is not set.
    pub max_turns: Option<u32>,
    /// Input plus output tokens of every agent, the planner and the judge together.
    pub budget_tokens: Option<u64>,
    /// Dollars, priced with the configuration's `model_prices`.
    pub budget_usd: Option<f64>,
    /// An agent with no event (model output, tool activity) for this long is stopped.
    pub stall_timeout: Option<Duration>,
}

/// Why the whole run stopped early.
#[derive(Debug, Clone, PartialEq)]
pub struct StopReason {
    /// The status given to agents stopped by it.
    pub status: TaskStatus,
    pub message: String,
}

/// Shared by every agent of a run.
pub struct RunControl {
    cancel: CancellationToken,
    stop: Mutex<Option<StopReason>>,
    spent: Mutex<(Usage, f64)>,
    budget_tokens: Option<u64>,
    budget_usd: Option<f64>,
}

impl RunControl {
    pub fn new(limits: &Limits, cancel: CancellationToken) -> Self {
        RunControl {
            cancel,
            stop: Mutex::new(None),
            spent: Mutex::new((Usage::default(), 0.0)),
            budget_tokens: limits.budget_tokens,
            budget_usd: limits.budget_usd,
        }
    }

    /// Cancelled when the run must stop (see [`RunControl::stop_reason`]).
    pub fn cancelled(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Stops every agent; the first reason given wins.
    pub fn stop(&self, status: TaskStatus, message: impl Into<String>) {
        let mut stop = self.stop.lock().expect("stop lock");
        if stop.is_none() {
            *stop = Some(StopReason {
                status,
                message: message.into(),
            });
        }
        drop(stop);
        self.cancel.cancel();
    }

    /// Why the run stopped; a cancellation from outside reads as `cancelled`.
    pub fn stop_reason(&self) -> Option<StopReason> {
        let stop = self.stop.lock().expect("stop lock").clone();
        match stop {
            Some(reason) => Some(reason),
            None if self.cancel.is_cancelled() => Some(StopReason {
                status: TaskStatus::Cancelled,
                message: "the run was cancelled".into(),
            }),
            None => None,
        }
    }

    /// Counts usage; stops the run when a budget is spent.
    pub fn add_usage(&self, usage: Usage, price: Option<ModelPrice>) {
        let (total, cost) = {
            let mut spent = self.spent.lock().expect("budget lock");
            spent.0.add(usage);
            if let Some(price) = price {
                spent.1 += price.cost(&usage.token_usage());
            }
            *spent
        };
        if let Some(budget) = self.budget_tokens
            && total.total() >= budget
        {
            self.stop(
                TaskStatus::BudgetExhausted,
                format!(
                    "the token budget of {budget} was reached ({} tokens used)",
                    total.total()
                ),
            );
        }
        if let Some(budget) = self.budget_usd
            && cost >= budget
        {
            self.stop(
                TaskStatus::BudgetExhausted,
                format!("the budget of ${budget:.4} was reached (${cost:.4} spent)"),
            );
        }
    }

    pub fn spent(&self) -> (Usage, f64) {
        *self.spent.lock().expect("budget lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_budget_stops_once_with_the_first_reason() {
        let control = RunControl::new(
            &Limits {
                budget_tokens: Some(100),
                ..Limits::default()
            },
            CancellationToken::new(),
        );
        control.add_usage(
            Usage {
                input_tokens: 60,
                output_tokens: 30,
                ..Usage::default()
            },
            None,
        );
        assert!(control.stop_reason().is_none());
        control.add_usage(
            Usage {
                input_tokens: 10,
                output_tokens: 0,
                ..Usage::default()
            },
            None,
        );
        let reason = control.stop_reason().unwrap();
        assert_eq!(reason.status, TaskStatus::BudgetExhausted);
        assert!(reason.message.contains("100"), "{}", reason.message);
        control.stop(TaskStatus::TimedOut, "later");
        assert_eq!(
            control.stop_reason().unwrap().status,
            TaskStatus::BudgetExhausted
        );
        assert!(control.cancelled().is_cancelled());
    }

    #[test]
    fn cached_input_is_priced_at_the_cached_rate() {
        let control = RunControl::new(&Limits::default(), CancellationToken::new());
        let price = ModelPrice {
            input_per_mtok: 10.0,
            output_per_mtok: 0.0,
            cached_input_per_mtok: Some(1.0),
        };
        control.add_usage(
            Usage {
                input_tokens: 1_000_000,
                cached_input_tokens: 800_000,
                output_tokens: 0,
            },
            Some(price),
        );
        let (usage, cost) = control.spent();
        assert_eq!(usage.cached_input_tokens, 800_000);
        // 200k fresh at $10/M plus 800k cached at $1/M.
        assert!((cost - 2.8).abs() < 1e-9, "{cost}");
    }
}
