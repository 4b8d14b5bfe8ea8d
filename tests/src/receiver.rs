//! A stand-in for the web team's or app team's backend receiving the gateway's deliveries (back-channel logouts,
//! login webhooks): every POST is recorded, and answered as the test planned — the next planned status, 200
//! once the plan is used up, or no answer at all while it is told to hang.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// One delivery as it arrived, with the status it was answered (none while hanging).
#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub answered: Option<u16>,
}

impl Delivery {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
struct Plan {
    statuses: VecDeque<u16>,
    hanging: bool,
    seen: Vec<Delivery>,
}

pub struct Receiver {
    server: MockServer,
    plan: Arc<Mutex<Plan>>,
}

impl Receiver {
    /// Answers 200 until told otherwise.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let plan = Arc::new(Mutex::new(Plan::default()));
        let recorder = Arc::clone(&plan);
        let respond = move |request: &Request| {
            let mut plan = recorder.lock().unwrap();
            let answered = (!plan.hanging).then(|| plan.statuses.pop_front().unwrap_or(200));
            let headers = request.headers.iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()));
            plan.seen.push(Delivery { headers: headers.collect(), body: request.body.clone(), answered });
            match answered {
                Some(status) => ResponseTemplate::new(status),
                // Longer than any attempt may take: the gateway gives up on it (or dies) first.
                None => ResponseTemplate::new(200).set_delay(Duration::from_secs(120)),
            }
        };
        Mock::given(method("POST")).respond_with(respond).mount(&server).await;
        Self { server, plan }
    }

    /// `http://127.0.0.1:<port>/hook`.
    pub fn url(&self) -> String {
        format!("{}/hook", self.server.uri())
    }

    /// The next requests are answered `statuses` in turn, then 200.
    pub fn plan(&self, statuses: &[u16]) {
        self.plan.lock().unwrap().statuses = statuses.iter().copied().collect();
    }

    /// From now on requests get no answer (`true`), or are answered as planned again.
    pub fn hang(&self, hanging: bool) {
        self.plan.lock().unwrap().hanging = hanging;
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.plan.lock().unwrap().seen.clone()
    }

    /// Waits until `done` holds for what arrived (at most `within`); returns what arrived.
    pub async fn wait_for(&self, within: Duration, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
        let until = Instant::now() + within;
        loop {
            let seen = self.deliveries();
            if done(&seen) || Instant::now() > until {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
