//! Fake HTTP dependencies of the services (an identity provider's JWKS, the web team's user directory) on
//! `wiremock`: one route, answered by the test's closure, with the two knobs such tests turn — how many requests
//! arrived, and "fail every request from now on".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer};

pub use wiremock::{Request, ResponseTemplate};

/// A running fake: `GET` on its route is answered by the test's closure (500 while failing), other requests
/// are 404 and not counted. Stops when dropped.
pub struct FakeService {
    server: MockServer,
    state: Arc<State>,
}

#[derive(Default)]
struct State {
    requests: AtomicUsize,
    failing: AtomicBool,
}

impl FakeService {
    /// Serves `GET` on paths matching `path_pattern` (a regex) with `answer`, each answer (a failure too) sent
    /// `delay` after the request arrived; a request is counted on arrival, so a slow answer is already counted.
    pub async fn start(
        path_pattern: &str,
        delay: Duration,
        answer: impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
    ) -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(State::default());
        let counted = Arc::clone(&state);
        let respond = move |request: &Request| {
            counted.requests.fetch_add(1, Ordering::SeqCst);
            let template =
                if counted.failing.load(Ordering::SeqCst) { ResponseTemplate::new(500) } else { answer(request) };
            if delay.is_zero() { template } else { template.set_delay(delay) }
        };
        Mock::given(method("GET")).and(path_regex(path_pattern)).respond_with(respond).mount(&server).await;
        Self { server, state }
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Requests that reached the route so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// From now on every request is a 500 (`true`), or answered again (`false`).
    pub fn fail(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }
}
