//! Where settings come from, and what was wrong with them. A reader takes every value from an [`Env`]; when one
//! is missing or invalid it notes the problem there and goes on with a fallback, so that one reading finds every
//! problem, and [`Env::finish`] hands back either the settings or all the problems at once (an operator fixes
//! a deployment in one round, not one variable per restart).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{SecretSlice, SecretString};

use crate::ErrorChain;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is required (development values: deploy/dev.env)")]
    Missing(&'static str),
    /// One of two ways to give a value (a URL or a file, a file or the value inline) must be set.
    #[error("{0} or {1} is required (development values: deploy/dev.env)")]
    MissingEither(&'static str, &'static str),
    /// Never carries the value: it may be a secret.
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// A value that reads fine but cannot be used: a key that does not parse, a data file of the wrong shape.
    /// The text is the loader's error, which names the variable and never the value.
    #[error("{0}")]
    Unusable(String),
}

impl ConfigError {
    pub fn invalid(name: &'static str, reason: impl fmt::Display) -> Self {
        Self::Invalid { name, reason: reason.to_string() }
    }

    /// A loader's error with its causes, as one [`ConfigError::Unusable`].
    pub fn unusable(e: &dyn std::error::Error) -> Self {
        Self::Unusable(ErrorChain(e).to_string())
    }
}

/// Every problem one reading of the settings found, in the order met; displayed one per line.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    /// Both values, or the problems of either or both: for loaders that run side by side, each reporting.
    pub fn both<A, B>(a: Result<A, ConfigError>, b: Result<B, ConfigError>) -> Result<(A, B), Self> {
        match (a, b) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            (a, b) => Err(Self(a.err().into_iter().chain(b.err()).collect())),
        }
    }

    pub fn problems(&self) -> &[ConfigError] {
        &self.0
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        Self(vec![e])
    }
}

type Lookup = Box<dyn Fn(&str) -> Option<String>>;

/// A source of settings (the process environment, or a map in tests) and the problems noted while reading it.
pub struct Env {
    lookup: Lookup,
    problems: RefCell<Vec<ConfigError>>,
}

impl Env {
    /// An empty variable counts as unset, as most shells and orchestrators mean it.
    pub fn from_process() -> Self {
        Self::new(Box::new(|k| std::env::var(k).ok().filter(|v| !v.is_empty())))
    }

    pub fn from_map(map: HashMap<String, String>) -> Self {
        Self::new(Box::new(move |k| map.get(k).cloned()))
    }

    fn new(lookup: Lookup) -> Self {
        Self { lookup, problems: RefCell::default() }
    }

    /// The settings read, or every problem noted since the last `finish`.
    pub fn finish<T>(&self, settings: T) -> Result<T, ConfigErrors> {
        let problems = self.problems.take();
        if problems.is_empty() { Ok(settings) } else { Err(ConfigErrors(problems)) }
    }

    /// Notes a problem a reader found itself (two settings that contradict each other, a value out of range).
    pub fn note(&self, problem: ConfigError) {
        self.problems.borrow_mut().push(problem);
    }

    pub fn invalid(&self, name: &'static str, reason: impl fmt::Display) {
        self.note(ConfigError::invalid(name, reason));
    }

    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// The value; unset is noted, and reading goes on with an empty one.
    pub fn required(&self, name: &'static str) -> String {
        self.required_with(name, |v| Ok::<_, std::convert::Infallible>(v.to_owned())).unwrap_or_default()
    }

    /// The value parsed by `parse`; unset or unparsable is noted and gives `None`.
    pub fn required_with<T, E: fmt::Display>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        if self.optional(name).is_none() {
            self.note(ConfigError::Missing(name));
        }
        self.parse_with(name, parse)
    }

    /// The value parsed by `parse`; `None` when unset (or blank), or when unparsable (noted).
    pub fn parse_with<T, E: fmt::Display>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let value = self.optional(name)?;
        let value = Some(value.trim()).filter(|v| !v.is_empty())?;
        parse(value).map_err(|e| self.invalid(name, e)).ok()
    }

    pub fn or(&self, name: &str, default: &str) -> String {
        self.optional(name).unwrap_or_else(|| default.to_owned())
    }

    /// The value, or `default` when unset or (noted) unparsable.
    pub fn parse_or<T: FromStr>(&self, name: &'static str, default: T) -> T
    where
        T::Err: fmt::Display,
    {
        self.parse_with(name, str::parse).unwrap_or(default)
    }

    pub fn secs_or(&self, name: &'static str, default: u64) -> Duration {
        Duration::from_secs(self.parse_or(name, default))
    }

    pub fn millis_or(&self, name: &'static str, default: u64) -> Duration {
        Duration::from_millis(self.parse_or(name, default))
    }

    pub fn bool_or(&self, name: &'static str, default: bool) -> bool {
        let parse = |v: &str| match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err("expected true or false"),
        };
        self.parse_with(name, parse).unwrap_or(default)
    }

    pub fn secret(&self, name: &'static str) -> SecretString {
        SecretString::from(self.required(name))
    }

    pub fn secret_bytes(&self, name: &'static str) -> SecretSlice<u8> {
        SecretSlice::from(self.required(name).into_bytes())
    }
}
