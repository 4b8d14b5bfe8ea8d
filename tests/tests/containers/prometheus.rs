//! The stack's Prometheus scrapes every service instance and has loaded the alert rules of deploy/monitoring.

use std::time::{Duration, Instant};

use serde_json::Value;

/// Two scrape intervals of deploy/monitoring/prometheus.yml, and some.
const SCRAPED_WITHIN: Duration = Duration::from_secs(45);

async fn query(http: &reqwest::Client, path: &str) -> Value {
    let base = std::env::var("QRL_PROMETHEUS_URL").expect("QRL_PROMETHEUS_URL: run through deploy/containers.sh test");
    let reply = http.get(format!("{base}{path}")).send().await.expect("Prometheus answers");
    assert!(reply.status().is_success(), "{path}: {}", reply.status());
    reply.json().await.expect("JSON")
}

#[tokio::test]
async fn prometheus_scrapes_both_gateways_and_mobile_api_and_loads_the_rules() {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let started = Instant::now();
    let up = loop {
        let up = query(&http, "/api/v1/query?query=up").await;
        let results = up["data"]["result"].as_array().cloned().unwrap_or_default();
        if results.len() == 3 && results.iter().all(|r| r["value"][1] == "1") {
            break results;
        }
        assert!(started.elapsed() < SCRAPED_WITHIN, "not every target is up: {up}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let mut jobs: Vec<&str> = up.iter().filter_map(|r| r["metric"]["instance"].as_str()).collect();
    jobs.sort_unstable();
    assert_eq!(jobs, ["gateway-a:9100", "gateway-b:9100", "mobile-api:9100"]);

    let rules = query(&http, "/api/v1/rules").await;
    let groups = rules["data"]["groups"].as_array().expect("rule groups");
    let alerts =
        groups.iter().flat_map(|g| g["rules"].as_array().into_iter().flatten()).filter(|r| r["type"] == "alerting");
    assert!(alerts.count() > 0, "no alert rules loaded: {rules}");
}
