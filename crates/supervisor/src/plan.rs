//! The plan: tasks with roles and dependencies, in the JSON shape the planner submits, and the
//! rules a plan must follow before anything runs.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

/// A plan as submitted by the planner (`submit_plan`) or read from `--plan FILE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub tasks: Vec<TaskSpec>,
}

/// One task of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub id: String,
    pub title: String,
    pub role: String,
    pub prompt: String,
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Globs of the files the task may change; empty for read-only work.
    #[serde(default)]
    pub writes: Vec<String>,
    /// How to judge the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<String>,
}

/// How tasks are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// One task at a time, in dependency order; each sees every earlier result.
    Sequential,
    /// Every task at once; dependencies are refused.
    Parallel,
    /// A dependency graph: a task starts when its dependencies have completed.
    #[default]
    Hybrid,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Sequential => "sequential",
            Strategy::Parallel => "parallel",
            Strategy::Hybrid => "hybrid",
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
        match s {
            "sequential" => Ok(Strategy::Sequential),
            "parallel" => Ok(Strategy::Parallel),
            "hybrid" => Ok(Strategy::Hybrid),
            other => Err(format!(
                "unknown strategy `{other}`; valid strategies: sequential, parallel, hybrid"
            )),
        }
    }
}

impl Plan {
    /// Parses the JSON arguments of a `submit_plan` call or a plan file.
    pub fn from_json(text: &str) -> Result<Plan, String> {
        serde_json::from_str(text).map_err(|e| {
            format!(
                "the plan is not valid JSON of the expected shape ({e}); expected {{\"tasks\": [{{\"id\", \"title\", \"role\", \"prompt\", \"depends_on\": [], \"writes\": [], \"acceptance\"}}]}}"
            )
        })
    }

    /// Every rule the plan breaks, one message each; empty when the plan is valid.
    ///
    /// `roles` are the roles the plan may use (already restricted by `--agents`).
    pub fn problems(&self, roles: &[&str], strategy: Strategy) -> Vec<String> {
        let mut problems = Vec::new();
        if self.tasks.is_empty() {
            problems.push("the plan has no tasks".to_string());
        }
        let mut seen = BTreeSet::new();
        for task in &self.tasks {
            if task.id.trim().is_empty() {
                problems.push(format!("task `{}` has an empty id", task.title));
            } else if !seen.insert(task.id.as_str()) {
                problems.push(format!("task id `{}` is used more than once", task.id));
            }
            if !roles.contains(&task.role.as_str()) {
                problems.push(format!(
                    "task `{}` uses the unknown role `{}`; allowed roles: {}",
                    task.id,
                    task.role,
                    roles.join(", ")
                ));
            }
            if task.prompt.trim().is_empty() {
                problems.push(format!("task `{}` has an empty prompt", task.id));
            }
            for dep in &task.depends_on {
                if dep == &task.id {
                    problems.push(format!("task `{}` depends on itself", task.id));
                } else if !self.tasks.iter().any(|t| &t.id == dep) {
                    problems.push(format!(
                        "task `{}` depends on `{dep}`, which is not a task of the plan",
                        task.id
                    ));
                }
            }
            if strategy == Strategy::Parallel && !task.depends_on.is_empty() {
                problems.push(format!(
                    "task `{}` depends on {}, but the parallel strategy runs every task at once: tasks must be independent (use --strategy hybrid for dependencies)",
                    task.id,
                    task.depends_on.join(", ")
                ));
            }
        }
        if let Some(cycle) = self.find_cycle() {
            problems.push(format!(
                "the dependencies form a cycle: {}",
                cycle.join(" -> ")
            ));
        }
        problems
    }

    /// A dependency cycle, as the ids along it, when there is one.
    fn find_cycle(&self) -> Option<Vec<String>> {
        let index: HashMap<&str, usize> = self
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; self.tasks.len()];
        let mut path = Vec::new();
        fn visit(
            plan: &Plan,
            index: &HashMap<&str, usize>,
            node: usize,
            state: &mut [u8],
            path: &mut Vec<usize>,
        ) -> Option<Vec<String>> {
            state[node] = 1;
            path.push(node);
            for dep in &plan.tasks[node].depends_on {
                let Some(&next) = index.get(dep.as_str()) else {
                    continue;
                };
                if next == node {
                    continue;
                }
                if state[next] == 1 {
                    let start = path.iter().position(|&n| n == next).unwrap_or(0);
                    let mut cycle: Vec<String> = path[start..]
                        .iter()
                        .map(|&n| plan.tasks[n].id.clone())
                        .collect();
                    cycle.push(plan.tasks[next].id.clone());
                    return Some(cycle);
                }
                if state[next] == 0
                    && let Some(cycle) = visit(plan, index, next, state, path)
                {
                    return Some(cycle);
                }
            }
            path.pop();
            state[node] = 2;
            None
        }
        for node in 0..self.tasks.len() {
            if state[node] == 0
                && let Some(cycle) = visit(self, &index, node, &mut state, &mut path)
            {
                return Some(cycle);
            }
        }
        None
    }

    /// Task indices in an order where every task comes after its dependencies, ties in plan
    /// order. Assumes a valid (acyclic) plan.
    pub fn dependency_order(&self) -> Vec<usize> {
        let mut done = vec![false; self.tasks.len()];
        let mut order = Vec::with_capacity(self.tasks.len());
        while order.len() < self.tasks.len() {
            let next = (0..self.tasks.len()).find(|&i| {
                !done[i]
                    && self.tasks[i].depends_on.iter().all(|d| {
                        self.tasks
                            .iter()
                            .position(|t| &t.id == d)
                            .is_none_or(|j| done[j])
                    })
            });
            let Some(next) = next else {
                // A cycle: fall back to plan order for what is left.
                order.extend((0..self.tasks.len()).filter(|&i| !done[i]));
                break;
            };
            done[next] = true;
            order.push(next);
        }
        order
    }
}

/// The literal directory part of a glob (`src/auth/**` → `src/auth/`).
fn literal_prefix(glob: &str) -> &str {
    let end = glob.find(['*', '?', '[', '{']).unwrap_or(glob.len());
    &glob[..end]
}

/// Whether two tasks' `writes` may touch the same file. Conservative: globs overlap when one's
/// literal prefix starts with the other's.
pub fn writes_overlap(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| {
            let (px, py) = (literal_prefix(x), literal_prefix(y));
            px.starts_with(py) || py.starts_with(px)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, role: &str, deps: &[&str]) -> TaskSpec {
        TaskSpec {
            id: id.into(),
            title: format!("Task {id}"),
            role: role.into(),
            prompt: "do it".into(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            writes: vec![],
            acceptance: None,
        }
    }

    #[test]
    fn valid_plan_has_no_problems() {
        let plan = Plan {
            tasks: vec![task("a", "Tester", &[]), task("b", "Security", &["a"])],
        };
        assert!(
            plan.problems(&["Tester", "Security"], Strategy::Hybrid)
                .is_empty()
        );
        assert_eq!(plan.dependency_order(), vec![0, 1]);
    }

    #[test]
    fn every_rule_is_reported() {
        let plan = Plan {
            tasks: vec![
                task("a", "Tester", &["c"]),
                task("a", "Wizard", &[]),
                task("c", "Tester", &["missing"]),
            ],
        };
        let problems = plan.problems(&["Tester"], Strategy::Parallel).join("\n");
        assert!(
            problems.contains("`a` is used more than once"),
            "{problems}"
        );
        assert!(problems.contains("unknown role `Wizard`"), "{problems}");
        assert!(
            problems.contains("`missing`, which is not a task"),
            "{problems}"
        );
        assert!(problems.contains("parallel strategy"), "{problems}");
    }

    #[test]
    fn cycles_are_found() {
        let plan = Plan {
            tasks: vec![
                task("a", "Tester", &["c"]),
                task("b", "Tester", &["a"]),
                task("c", "Tester", &["b"]),
            ],
        };
        let problems = plan.problems(&["Tester"], Strategy::Hybrid).join("\n");
        assert!(problems.contains("cycle: a -> c -> b -> a"), "{problems}");
    }

    #[test]
    fn dependency_order_puts_dependencies_first() {
        let plan = Plan {
            tasks: vec![
                task("late", "T", &["early"]),
                task("early", "T", &[]),
                task("free", "T", &[]),
            ],
        };
        assert_eq!(plan.dependency_order(), vec![1, 0, 2]);
    }

    #[test]
    fn overlapping_writes() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(writes_overlap(&s(&["src/**"]), &s(&["src/auth/login.rs"])));
        assert!(!writes_overlap(&s(&["src/**"]), &s(&["docs/**"])));
        assert!(!writes_overlap(&s(&[]), &s(&["docs/**"])));
    }
}
