//! Budgets and the running account of a research run: tokens, dollars (with a price table),
//! pages and wall-clock time. Planning stops when a budget is near, so the synthesis and its
//! verification can still be paid for; model calls stop when a budget is spent.

use cadre_protocol::TokenUsage;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Share of a budget after which no new level is planned.
pub const PLANNING_SHARE: f64 = 0.6;

/// A model's price in US dollars per million tokens (the configuration's price table entry).
pub use cadre_protocol::ModelPrice as TokenPrice;

/// The limits of one run; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Budgets {
    pub tokens: Option<u64>,
    pub usd: Option<f64>,
    pub max_pages: Option<usize>,
    pub timeout: Option<Duration>,
}

#[derive(Debug, Default)]
struct Account {
    usage: TokenUsage,
    cost: f64,
    calls: usize,
    replayed_calls: usize,
    pages: usize,
    stop: Option<String>,
    notes: Vec<String>,
    authorship: crate::report::Authorship,
}

/// What a run has spent so far, shared by the engine, the planner and the synthesizer.
#[derive(Debug)]
pub struct Ledger {
    budgets: Budgets,
    price: Option<TokenPrice>,
    started: Instant,
    account: Mutex<Account>,
}

/// A snapshot of the account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Spent {
    pub tokens: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `None` without a price for the model.
    pub cost_usd: Option<f64>,
    pub model_calls: usize,
    /// Calls answered from the journal of an earlier attempt of the run.
    pub replayed_calls: usize,
    pub pages: usize,
}

impl Ledger {
    pub fn new(budgets: Budgets, price: Option<TokenPrice>) -> Self {
        Ledger {
            budgets,
            price,
            started: Instant::now(),
            account: Mutex::new(Account::default()),
        }
    }

    fn account(&self) -> std::sync::MutexGuard<'_, Account> {
        self.account.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn budgets(&self) -> Budgets {
        self.budgets
    }

    pub fn record_call(&self, usage: &TokenUsage, replayed: bool) {
        let mut account = self.account();
        account.usage.add(usage);
        if let Some(price) = &self.price {
            account.cost += price.cost(usage);
        }
        account.calls += 1;
        account.replayed_calls += usize::from(replayed);
    }

    pub fn record_page(&self) {
        self.account().pages += 1;
    }

    pub fn spent(&self) -> Spent {
        let account = self.account();
        Spent {
            tokens: account.usage.input_tokens + account.usage.output_tokens,
            input_tokens: account.usage.input_tokens,
            output_tokens: account.usage.output_tokens,
            cost_usd: self.price.map(|_| account.cost),
            model_calls: account.calls,
            replayed_calls: account.replayed_calls,
            pages: account.pages,
        }
    }

    /// The first budget used beyond `share` of itself, described for the report.
    fn over(&self, share: f64) -> Option<String> {
        let spent = self.spent();
        if let Some(limit) = self.budgets.tokens
            && spent.tokens as f64 >= limit as f64 * share
        {
            return Some(format!(
                "the token budget (--budget-tokens {limit}; {} used)",
                spent.tokens
            ));
        }
        if let (Some(limit), Some(cost)) = (self.budgets.usd, spent.cost_usd)
            && cost >= limit * share
        {
            return Some(format!(
                "the cost budget (--budget-usd {limit}; ${cost:.4} spent)"
            ));
        }
        if let Some(limit) = self.budgets.timeout
            && self.started.elapsed().as_secs_f64() >= limit.as_secs_f64() * share
        {
            return Some(format!(
                "the time limit (--timeout {}s; {:.1}s elapsed)",
                limit.as_secs(),
                self.started.elapsed().as_secs_f64()
            ));
        }
        None
    }

    /// Why no further level should be planned, if a budget is near (or pages ran out).
    pub fn planning_stop(&self) -> Option<String> {
        if let Some(limit) = self.budgets.max_pages
            && self.spent().pages >= limit
        {
            return Some(format!("the page budget (--max-pages {limit})"));
        }
        self.over(PLANNING_SHARE)
    }

    /// Why no further model call may be made, if a budget is spent.
    pub fn exhausted(&self) -> Option<String> {
        self.over(1.0)
    }

    /// How many more pages may be fetched.
    pub fn pages_left(&self) -> usize {
        self.budgets
            .max_pages
            .map_or(usize::MAX, |limit| limit.saturating_sub(self.spent().pages))
    }

    /// Whether the run's time is up.
    pub fn timed_out(&self) -> bool {
        self.budgets
            .timeout
            .is_some_and(|limit| self.started.elapsed() >= limit)
    }

    /// Remembers the first limit that stopped the run early.
    pub fn note_stop(&self, reason: String) {
        let mut account = self.account();
        if account.stop.is_none() {
            account.stop = Some(reason);
        }
    }

    /// Records something the report must say (a fallback taken, a limit hit).
    pub fn note(&self, text: String) {
        self.account().notes.push(text);
    }

    /// A level was planned, by the model or (its plan unusable) by the engine.
    pub fn record_planning(&self, by_model: bool) {
        let mut account = self.account();
        if by_model {
            account.authorship.levels_planned_by_model += 1;
        } else {
            account.authorship.levels_planned_by_engine += 1;
        }
    }

    /// The model submitted the report.
    pub fn record_written_by_model(&self) {
        self.account().authorship.written_by_model = true;
    }

    pub fn authorship(&self) -> crate::report::Authorship {
        self.account().authorship
    }

    pub fn notes(&self) -> Vec<String> {
        self.account().notes.clone()
    }

    pub fn stop_reason(&self) -> Option<String> {
        self.account().stop.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planning_stops_before_the_budget_is_spent() {
        let ledger = Ledger::new(
            Budgets {
                tokens: Some(1000),
                usd: Some(1.0),
                ..Budgets::default()
            },
            Some(TokenPrice {
                input_per_mtok: 1000.0,
                output_per_mtok: 0.0,
                cached_input_per_mtok: None,
            }),
        );
        let usage = |input| TokenUsage {
            input_tokens: input,
            ..TokenUsage::default()
        };
        ledger.record_call(&usage(500), false);
        assert!(ledger.planning_stop().is_none());
        ledger.record_call(&usage(150), true);
        assert!(ledger.planning_stop().unwrap().contains("token budget"));
        assert!(ledger.exhausted().is_none());
        ledger.record_call(&usage(400), false);
        assert!(ledger.exhausted().is_some());
        let spent = ledger.spent();
        assert_eq!(
            (spent.tokens, spent.model_calls, spent.replayed_calls),
            (1050, 3, 1)
        );
        assert!((spent.cost_usd.unwrap() - 1.05).abs() < 1e-9);
    }
}
