//! The environment variables as `--help` lists them: one table per reader, next to it, so that the list cannot
//! drift from what is read. Each crate's tests hold its table against its reader: every name the reader reads is
//! listed ([`names_in_source`]), and every listed default is the reader's own (setting a variable to its listed
//! default changes nothing).

/// One variable: its name, what it is when unset, and one line of help.
#[derive(Clone, Copy, Debug)]
pub struct EnvVar {
    pub name: &'static str,
    pub default: VarDefault,
    pub help: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarDefault {
    /// Must be set.
    Required,
    /// Must be set in some setups; the text says which.
    RequiredWhen(&'static str),
    /// What the reader uses when unset, exactly as one would write it (the tests set it and compare).
    Value(&'static str),
    /// What the reader uses when unset, in words (it depends on something else).
    Described(&'static str),
    /// Unset: the feature is off.
    Off,
}

/// Variables that belong together, under a heading.
#[derive(Clone, Copy, Debug)]
pub struct EnvGroup {
    pub title: &'static str,
    pub vars: &'static [EnvVar],
}

const fn var(name: &'static str, default: VarDefault, help: &'static str) -> EnvVar {
    EnvVar { name, default, help }
}

use VarDefault::{Described, Off, Required, Value};

/// What both services read ([`super::ServiceSettings`]), but the listen address, whose default differs.
pub const SERVICE_VARS: &[EnvGroup] = &[
    EnvGroup {
        title: "Serving",
        vars: &[
            var("QRL_METRICS_ADDR", Off, "an address of its own for GET /metrics; unset: on the listen address"),
            var("QRL_WORKERS", Described("the CPU count"), "HTTP worker threads"),
            var("QRL_SHUTDOWN_TIMEOUT_SECS", Value("10"), "after SIGTERM, how long in-flight requests may finish"),
            var("QRL_TRUSTED_PROXIES", Off, "IPs/CIDRs whose X-Forwarded-For is believed (e.g. 10.0.0.0/8)"),
        ],
    },
    EnvGroup {
        title: "Redis",
        vars: &[
            var("REDIS_URL", Value("redis://127.0.0.1:6379"), "a single Redis (may carry a password)"),
            var("QRL_REDIS_CLUSTER_NODES", Off, "comma-separated redis:// seed nodes of a Redis Cluster, instead"),
            var("QRL_REDIS_SENTINELS", Off, "comma-separated redis:// sentinels of a primary, instead"),
            var("QRL_REDIS_SENTINEL_MASTER", Off, "the name the sentinels monitor the primary under"),
            var("QRL_REDIS_KEY_PREFIX", Value("qrl"), "prefix of every key; no { or }"),
            var("QRL_REDIS_POOL_SIZE", Value("32"), "pooled connections per instance"),
            var("QRL_REDIS_WAIT_TIMEOUT_MS", Value("500"), "longest wait for a pooled connection"),
            var("QRL_REDIS_CONNECT_TIMEOUT_MS", Value("1000"), "longest wait to open a connection"),
            var("QRL_REDIS_COMMAND_TIMEOUT_MS", Value("1000"), "longest wait for any command"),
            var("QRL_REDIS_OUTAGE_SUMMARY_MS", Value("10000"), "while Redis fails, how often the log sums it up"),
        ],
    },
    EnvGroup {
        title: "QR links",
        vars: &[
            var("QRL_QR_BASE_URL", Required, "public base of QR links, e.g. https://login.example.com"),
            var("QRL_SIGNING_SECRET", Required, "key of the verification strings (>= 32 bytes), the same in both"),
            var("QRL_SIGNING_SECRETS_ACCEPTED", Off, "comma-separated older or next keys still accepted, never issued"),
        ],
    },
    EnvGroup {
        title: "Logging",
        vars: &[
            var("QRL_LOG_FORMAT", Value("text"), "json: one JSON object per line"),
            var("RUST_LOG", Value("info"), "log filter, e.g. info,web_gateway=debug"),
        ],
    },
    EnvGroup {
        title: "Traces (OpenTelemetry, off unless an endpoint or OTEL_TRACES_EXPORTER=otlp is set; see README)",
        vars: &[
            var("OTEL_EXPORTER_OTLP_ENDPOINT", Off, "OTLP/HTTP base URL, e.g. http://collector:4318: turns export on"),
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Off, "the full traces URL, instead"),
            var("OTEL_TRACES_EXPORTER", Off, "otlp (on, default endpoint) or none (off)"),
            var("OTEL_SDK_DISABLED", Off, "true: off whatever else is set"),
            var("OTEL_SERVICE_NAME", Described("the binary's name"), "service.name of the spans"),
            var(
                "OTEL_TRACES_SAMPLER",
                Described("parentbased_always_on"),
                "the SDK's sampler (and OTEL_TRACES_SAMPLER_ARG)",
            ),
        ],
    },
];

/// Read by both services, listed by each in its own group ([`super::device_memory`]).
pub const DEVICE_MEMORY: EnvVar =
    var("QRL_DEVICE_MEMORY_DAYS", Value("180"), "how long a browser that logged in stays a known device (1-3650 days)");

/// The listen address, with the service's default.
pub const fn listen_addr(default: &'static str) -> EnvVar {
    var("QRL_LISTEN_ADDR", Value(default), "address to listen on")
}

/// Every variable of `groups`.
pub fn all(groups: &[EnvGroup]) -> impl Iterator<Item = &EnvVar> {
    groups.iter().flat_map(|g| g.vars)
}

/// The help text: a heading per group, one line per variable, required ones marked.
pub fn render(groups: &[EnvGroup]) -> String {
    let width = all(groups).map(|v| v.name.len()).max().unwrap_or(0);
    let mut out = String::from("Environment variables (empty counts as unset):\n");
    for group in groups {
        out.push_str(&format!("\n{}:\n", group.title));
        for v in group.vars {
            let when = match v.default {
                Required => " [required]".to_owned(),
                VarDefault::RequiredWhen(when) => format!(" [required {when}]"),
                Value(value) => format!(" [default: {value}]"),
                Described(what) => format!(" [default: {what}]"),
                Off => String::new(),
            };
            out.push_str(&format!("  {:width$}  {}{when}\n", v.name, v.help));
        }
    }
    out
}

/// What is wrong between a table and its reader, one line each: names the reader's `sources` read but the
/// table does not list, names listed but not read, and listed defaults the reader does not fall back to. `read`
/// reads the settings from `base` plus one variable and prints them with `{:?}` (secrets print redacted: their
/// defaults go unchecked).
#[cfg(any(test, feature = "test-support"))]
pub fn drift(
    groups: &[EnvGroup],
    sources: &[&str],
    base: &[(&str, &str)],
    read: impl Fn(super::Env) -> String,
) -> Vec<String> {
    /// Read outside the settings readers, by the logging and tracing setup (`crate::telemetry`).
    const READ_ELSEWHERE: [&str; 7] = [
        "RUST_LOG",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_TRACES_EXPORTER",
        "OTEL_SDK_DISABLED",
        "OTEL_SERVICE_NAME",
        "OTEL_TRACES_SAMPLER",
    ];
    let read_names: Vec<&str> = sources.iter().flat_map(|s| names_in_source(s)).collect();
    let env = |extra: Option<(&str, &str)>| {
        let pairs = base.iter().copied().chain(extra).map(|(k, v)| (k.to_owned(), v.to_owned()));
        super::Env::from_map(pairs.collect())
    };
    let unset = read(env(None));
    let mut problems: Vec<String> = read_names
        .iter()
        .filter(|name| !all(groups).any(|v| v.name == **name))
        .map(|name| format!("{name} is read but not listed"))
        .collect();
    for v in all(groups) {
        if !read_names.contains(&v.name) && !READ_ELSEWHERE.contains(&v.name) {
            problems.push(format!("{} is listed but not read", v.name));
        }
        if let Value(default) = v.default
            && !base.iter().any(|(k, _)| *k == v.name)
            && read(env(Some((v.name, default)))) != unset
        {
            problems.push(format!("{} is listed with default {default}, but that is not what unset means", v.name));
        }
    }
    problems
}

/// The variable names a source spells as string literals (`"QRL_…"`, `"REDIS_URL"`).
#[cfg(any(test, feature = "test-support"))]
fn names_in_source(source: &str) -> Vec<&str> {
    // Every stretch between two quotes that is wholly a name: escaped quotes cannot put the split out of step.
    source
        .split('"')
        .filter(|s| s.starts_with("QRL_") || *s == "REDIS_URL")
        .filter(|s| s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_ones_are_marked_and_defaults_shown() {
        let text = render(SERVICE_VARS);
        let line = |name: &str| text.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_default();
        assert!(line("QRL_QR_BASE_URL ").ends_with("[required]"), "{text}");
        assert!(line("QRL_REDIS_POOL_SIZE ").ends_with("[default: 32]"), "{text}");
        assert!(line("QRL_METRICS_ADDR ").ends_with("listen address"), "{text}");
    }

    #[test]
    fn names_are_the_string_literals_that_look_like_variables() {
        let source = r#"env.or("QRL_A_1", "x"); // "QRL_lower" "REDIS_URL" "QRL_B""#;
        assert_eq!(names_in_source(source), ["QRL_A_1", "REDIS_URL", "QRL_B"]);
    }
}
