//! A fault rule that cannot be mounted, with where in the rule the problem is.

use std::fmt;

/// Why a fault rule was refused: which rule of a list (if it came in one), which field, and
/// what is wrong, e.g. `[2].action.goaway: unknown field "eror_code"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    index: Option<usize>,
    path: Option<String>,
    message: String,
}

impl RuleError {
    /// An error whose message already names the field (`action.close must be true`).
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            index: None,
            path: None,
            message: message.into(),
        }
    }

    /// An error at a JSON path such as `action.goaway` (from the parser).
    pub(crate) fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            index: None,
            path: Some(path.into()),
            message: message.into(),
        }
    }

    /// The same error, said of rule `index` of a list.
    pub(crate) fn in_list(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }

    /// Which rule of a list, when the rule came in one.
    pub fn index(&self) -> Option<usize> {
        self.index
    }

    /// The JSON path of the offending field, when the parser knew it.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = self.index {
            write!(f, "[{i}].")?;
        }
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}
