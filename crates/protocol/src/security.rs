//! Names of the security profiles and approval modes, shared by every crate that shows or
//! chooses them. How a profile is enforced lives in the sandbox crate.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What the commands cadre runs may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecurityProfile {
    /// Read everything allowed, write nothing but a private temp dir, no network.
    #[default]
    Offline,
    /// As offline, plus outbound HTTP(S) through cadre's allowlisting proxy.
    NetReadOnly,
    /// Write inside the workspace and a private temp dir, no network.
    #[serde(alias = "workspace")]
    WorkspaceWrite,
    /// As workspace-write, plus outbound HTTP(S) through the proxy.
    WorkspaceNet,
    /// No restriction at all.
    Trusted,
}

impl SecurityProfile {
    pub const ALL: [SecurityProfile; 5] = [
        SecurityProfile::Offline,
        SecurityProfile::NetReadOnly,
        SecurityProfile::WorkspaceWrite,
        SecurityProfile::WorkspaceNet,
        SecurityProfile::Trusted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecurityProfile::Offline => "offline",
            SecurityProfile::NetReadOnly => "net-read-only",
            SecurityProfile::WorkspaceWrite => "workspace-write",
            SecurityProfile::WorkspaceNet => "workspace-net",
            SecurityProfile::Trusted => "trusted",
        }
    }

    pub fn allows_workspace_writes(self) -> bool {
        matches!(
            self,
            SecurityProfile::WorkspaceWrite
                | SecurityProfile::WorkspaceNet
                | SecurityProfile::Trusted
        )
    }

    pub fn allows_network(self) -> bool {
        matches!(
            self,
            SecurityProfile::NetReadOnly | SecurityProfile::WorkspaceNet | SecurityProfile::Trusted
        )
    }

    /// The narrower of two profiles: used to cap a child's profile by its parent's.
    pub fn cap(self, ceiling: SecurityProfile) -> SecurityProfile {
        let writes = self.allows_workspace_writes() && ceiling.allows_workspace_writes();
        let net = self.allows_network() && ceiling.allows_network();
        if self == SecurityProfile::Trusted && ceiling == SecurityProfile::Trusted {
            return SecurityProfile::Trusted;
        }
        match (writes, net) {
            (false, false) => SecurityProfile::Offline,
            (false, true) => SecurityProfile::NetReadOnly,
            (true, false) => SecurityProfile::WorkspaceWrite,
            (true, true) => SecurityProfile::WorkspaceNet,
        }
    }
}

impl fmt::Display for SecurityProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SecurityProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "offline" => Ok(SecurityProfile::Offline),
            "net-read-only" => Ok(SecurityProfile::NetReadOnly),
            "workspace-write" | "workspace" => Ok(SecurityProfile::WorkspaceWrite),
            "workspace-net" => Ok(SecurityProfile::WorkspaceNet),
            "trusted" => Ok(SecurityProfile::Trusted),
            other => Err(format!(
                "unknown security profile `{other}`; valid profiles: offline, net-read-only, workspace-write (alias workspace), workspace-net, trusted"
            )),
        }
    }
}

/// When a human (or the approval mode standing in for one) is asked before a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalMode {
    /// Ask for anything the policy does not know to be safe.
    Untrusted,
    /// The policy's `ask` rules ask; everything else runs.
    #[default]
    OnRequest,
    /// Run in the sandbox; ask only to rerun without it after a failure.
    OnFailure,
    /// Never ask: `ask` resolves to a refusal in non-interactive runs.
    Never,
}

impl ApprovalMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalMode::Untrusted => "untrusted",
            ApprovalMode::OnRequest => "on-request",
            ApprovalMode::OnFailure => "on-failure",
            ApprovalMode::Never => "never",
        }
    }
}

impl fmt::Display for ApprovalMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApprovalMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "untrusted" => Ok(ApprovalMode::Untrusted),
            "on-request" => Ok(ApprovalMode::OnRequest),
            "on-failure" => Ok(ApprovalMode::OnFailure),
            "never" => Ok(ApprovalMode::Never),
            other => Err(format!(
                "unknown approval mode `{other}`; valid modes: untrusted, on-request, on-failure, never"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_never_widens() {
        for child in SecurityProfile::ALL {
            for ceiling in SecurityProfile::ALL {
                let capped = child.cap(ceiling);
                assert!(!capped.allows_network() || ceiling.allows_network());
                assert!(!capped.allows_workspace_writes() || ceiling.allows_workspace_writes());
                if ceiling != SecurityProfile::Trusted {
                    assert_ne!(capped, SecurityProfile::Trusted);
                }
            }
        }
        assert_eq!(
            SecurityProfile::WorkspaceWrite.cap(SecurityProfile::Offline),
            SecurityProfile::Offline
        );
    }

    #[test]
    fn parse_names_and_alias() {
        for p in SecurityProfile::ALL {
            assert_eq!(p.as_str().parse::<SecurityProfile>().unwrap(), p);
        }
        assert_eq!(
            "workspace".parse::<SecurityProfile>().unwrap(),
            SecurityProfile::WorkspaceWrite
        );
        let err = "bogus".parse::<SecurityProfile>().unwrap_err();
        assert!(err.contains("net-read-only"));
    }
}

/// What the command policy says about a command. Ordered from least to most restrictive, so the
/// decision for a compound command is the maximum of its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyDecision {
    /// Run without asking.
    Allow,
    /// Ask the user first (what the approval mode settles).
    Ask,
    /// Never run.
    Forbid,
}

impl PolicyDecision {
    /// The lowercase name used in rule files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyDecision::Allow => "allow",
            PolicyDecision::Ask => "ask",
            PolicyDecision::Forbid => "forbid",
        }
    }
}

impl std::fmt::Display for PolicyDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
