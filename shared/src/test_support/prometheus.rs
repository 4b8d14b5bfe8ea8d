//! Reading a `/metrics` answer back in tests. The grammar is `prom_text_format_parser`'s (strict: a malformed
//! line, a second TYPE for one family or a family without samples is an error); on top of it this module asks
//! that every family be typed and flattens the families into the sample lines a query names
//! (`x_bucket{le="+Inf"}`, `x_sum`, `x_count`). [`scrape`] fetches and checks one answer.

use std::collections::{BTreeMap, HashMap};

use prom_text_format_parser::{Metric, Type, ValueType};

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
    /// Family name → `counter`, `gauge`, `histogram` or `summary`.
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

/// `GET <base>/metrics`: checks the answer is a 200 in the Prometheus text format (0.0.4) that parses, and
/// returns the text with its parse.
pub async fn scrape(client: &reqwest::Client, base: &str) -> (String, Exposition) {
    let res = client.get(format!("{base}/metrics")).send().await.expect("GET /metrics is answered");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let text = res.text().await.expect("a text body");
    let parsed = parse(&text).unwrap_or_else(|e| panic!("not Prometheus text: {e}\n{text}"));
    (text, parsed)
}

/// Parses a whole exposition; the error says what is wrong and where.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let (families, error) = prom_text_format_parser::parse_scrape(text);
    if let Some(error) = error {
        return Err(format!("{error:?}"));
    }
    let mut out = Exposition::default();
    for family in families {
        // The parser files a sample line without a TYPE under an untyped family of its own name.
        if family.kind == Type::Untyped {
            return Err(format!("samples of {} without a TYPE", family.name));
        }
        out.samples.extend(samples_of(&family)?);
        out.types.insert(family.name.clone(), family.kind.to_string());
    }
    Ok(out)
}

/// The family's sample lines under the names they have on the wire.
fn samples_of(family: &Metric) -> Result<Vec<Sample>, String> {
    family
        .samples
        .iter()
        .map(|sample| {
            let suffix = match (sample.value.value_type, family.kind) {
                (ValueType::Sample, Type::Histogram) => "_bucket",
                (ValueType::Sample, _) => "",
                (ValueType::Sum, _) => "_sum",
                (ValueType::Count, _) => "_count",
            };
            let value = sample.value.value.parse::<f64>().map_err(|e| format!("{}: {e}", family.name))?;
            let labels = sample.labels.iter().map(|l| (l.key.clone(), unescape(&l.value))).collect();
            Ok(Sample { name: format!("{}{suffix}", family.name), labels, value })
        })
        .collect()
}

/// The parser hands label values over as written; the exporter escapes `\`, `"` and newlines in them.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_families_labels_and_escapes() {
        let text = "# HELP a_total Things.\n# TYPE a_total counter\na_total{k=\"v\",q=\"say \\\"hi\\\"\\n\"} 3\n\
                    # TYPE h histogram\nh_bucket{r=\"/q/{id}\",le=\"+Inf\"} 2\nh_sum{r=\"/q/{id}\"} 0.5\n\
                    h_count{r=\"/q/{id}\"} 2 1700000000\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.sum("a_total", &[("k", "v")]), 3.0);
        assert_eq!(parsed.samples[0].labels["q"], "say \"hi\"\n");
        assert_eq!(parsed.type_of("h"), Some("histogram"));
        assert_eq!(parsed.sum("h_count", &[("r", "/q/{id}")]), 2.0);
        assert_eq!(parsed.matching("h_bucket", &[]).next().map(|s| s.labels["le"].as_str()), Some("+Inf"));
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
            "# TYPE 1a counter\n1a 1\n",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
