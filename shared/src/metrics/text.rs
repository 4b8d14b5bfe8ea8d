//! A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line must be a comment, a
//! `# HELP`/`# TYPE` line or a sample, and every sample must belong to a family whose type was declared before it.

use std::collections::{BTreeMap, HashMap};

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed `/metrics` answer.
#[derive(Debug, Default)]
pub struct Exposition {
    pub samples: Vec<Sample>,
    /// Family name → `counter`, `gauge`, `histogram`, `summary` or `untyped`.
    pub types: HashMap<String, String>,
}

impl Exposition {
    /// The sum of the samples named `name` whose labels include every pair of `labels` (0 when there is none).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|s| s.value).sum()
    }

    /// The samples named `name` whose labels include every pair of `labels`.
    pub fn matching<'a>(&'a self, name: &'a str, labels: &'a [(&str, &str)]) -> impl Iterator<Item = &'a Sample> {
        self.samples.iter().filter(move |s| {
            s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).is_some_and(|actual| actual == v))
        })
    }

    pub fn type_of(&self, family: &str) -> Option<&str> {
        self.types.get(family).map(String::as_str)
    }
}

/// Parses a whole exposition; the error names the offending line.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut out = Exposition::default();
    for (number, line) in text.lines().enumerate() {
        let fail = |why: &str| format!("line {}: {why}: {line:?}", number + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    if !is_metric_name(name) {
                        return Err(fail("bad metric name"));
                    }
                    if !matches!(kind, "counter" | "gauge" | "histogram" | "summary" | "untyped") {
                        return Err(fail("unknown type"));
                    }
                    if out.samples.iter().any(|s| family_of(&s.name, &out.types) == Some(name)) {
                        return Err(fail("TYPE after samples of its family"));
                    }
                    if out.types.insert(name.to_owned(), kind.to_owned()).is_some() {
                        return Err(fail("second TYPE for one family"));
                    }
                }
                (Some("HELP"), Some(name), _) if !is_metric_name(name) => return Err(fail("bad metric name")),
                (Some("TYPE"), ..) => return Err(fail("incomplete TYPE line")),
                _ => {}
            }
            continue;
        }
        let sample = sample(line).map_err(&fail)?;
        if family_of(&sample.name, &out.types).is_none() {
            return Err(fail("sample of a family without TYPE"));
        }
        out.samples.push(sample);
    }
    Ok(out)
}

/// The declared family a sample belongs to: its own name, or a histogram's/summary's with its suffix removed.
fn family_of<'a>(name: &'a str, types: &HashMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let family = name.strip_suffix(suffix)?;
        matches!(types.get(family).map(String::as_str), Some("histogram" | "summary")).then_some(family)
    })
}

fn sample(line: &str) -> Result<Sample, &'static str> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err("bad metric name");
    }
    let (labels, rest) = if line[name_end..].starts_with('{') {
        labels(&line[name_end + 1..])?
    } else {
        (BTreeMap::new(), &line[name_end..])
    };
    let mut fields = rest.split_ascii_whitespace();
    let value = fields.next().ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().map_err(|_| "bad value")?,
    };
    if let Some(timestamp) = fields.next() {
        timestamp.parse::<i64>().map_err(|_| "bad timestamp")?;
    }
    if fields.next().is_some() {
        return Err("trailing text");
    }
    Ok(Sample { name: name.to_owned(), labels, value })
}

/// `a="x",b="y"}` → the labels and what follows the closing brace.
fn labels(mut s: &str) -> Result<(BTreeMap<String, String>, &str), &'static str> {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(rest) = s.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let eq = s.find('=').ok_or("label without value")?;
        let name = &s[..eq];
        if !is_label_name(name) {
            return Err("bad label name");
        }
        let mut chars = s[eq + 1..].strip_prefix('"').ok_or("unquoted label value")?.char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("unterminated escape")?.1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    _ => return Err("bad escape"),
                },
                (_, '\n') => return Err("newline in label value"),
                (_, c) => value.push(c),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err("repeated label");
        }
        s = &s[eq + 2 + end + 1..];
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_families_labels_and_escapes() {
        let text = "# HELP a_total Things.\n# TYPE a_total counter\na_total{k=\"v\",q=\"say \\\"hi\\\"\\n\"} 3\n\
                    # TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.5\nh_count 2 1700000000\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.sum("a_total", &[("k", "v")]), 3.0);
        assert_eq!(parsed.samples[0].labels["q"], "say \"hi\"\n");
        assert_eq!(parsed.type_of("h"), Some("histogram"));
        assert_eq!(parsed.sum("h_count", &[]), 2.0);
        assert_eq!(parsed.sum("a_total", &[("k", "other")]), 0.0);
    }

    #[test]
    fn refuses_what_prometheus_would() {
        for bad in [
            "untyped_sample 1\n",
            "# TYPE a counter\na{k=v} 1\n",
            "# TYPE a counter\na 1 2 3\n",
            "# TYPE a counter\na{k=\"v\" 1\n",
            "# TYPE a counter\na one\n",
            "# TYPE a counter\n# TYPE a counter\n",
            "# TYPE a sometimes\n",
            "# TYPE 1a counter\n",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
