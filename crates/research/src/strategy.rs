//! Research strategies: how wide each level searches and how passages are chosen.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Wide: several sub-queries per level, many sources, every level run.
    #[default]
    Comprehensive,
    /// Few high-quality sources; stops once every question term is covered by a good passage.
    Focused,
    /// Wide, favouring sources from many different sites and families.
    Exploratory,
}

/// The numbers a strategy sets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrategyParameters {
    pub queries_per_level: usize,
    pub results_per_query: usize,
    pub fetches_per_level: usize,
    /// MMR trade-off: 1.0 is pure relevance, lower favours diversity.
    pub mmr_lambda: f64,
    /// Extra similarity charged for a passage from a family already selected.
    pub family_penalty: f64,
    /// How much quality scales relevance (0: ignored, 1: multiplied in fully).
    pub quality_weight: f64,
    pub stop_when_covered: bool,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [
        Strategy::Comprehensive,
        Strategy::Focused,
        Strategy::Exploratory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Comprehensive => "comprehensive",
            Strategy::Focused => "focused",
            Strategy::Exploratory => "exploratory",
        }
    }

    pub fn parameters(self) -> StrategyParameters {
        match self {
            Strategy::Comprehensive => StrategyParameters {
                queries_per_level: 4,
                results_per_query: 20,
                fetches_per_level: 16,
                mmr_lambda: 0.7,
                family_penalty: 0.15,
                quality_weight: 0.5,
                stop_when_covered: false,
            },
            Strategy::Focused => StrategyParameters {
                queries_per_level: 2,
                results_per_query: 6,
                fetches_per_level: 8,
                mmr_lambda: 0.85,
                family_penalty: 0.0,
                quality_weight: 0.9,
                stop_when_covered: true,
            },
            Strategy::Exploratory => StrategyParameters {
                queries_per_level: 5,
                results_per_query: 20,
                fetches_per_level: 20,
                mmr_lambda: 0.5,
                family_penalty: 0.4,
                quality_weight: 0.4,
                stop_when_covered: false,
            },
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Strategy::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown strategy `{s}`; valid strategies: comprehensive, focused, exploratory"
                )
            })
    }
}
