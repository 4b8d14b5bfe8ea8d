//! Every connection ends: whatever the framing of a request, it is answered and its connection closed within the
//! bounds of `shared/src/server.rs`, and a request arriving on a kept-alive connection as the instance begins to
//! stop is answered, not cut off.

use qrlogin_shared::test_support::raw_http;

use crate::helpers::spawn_app;

fn addr(address: &str) -> &str {
    address.trim_start_matches("http://")
}

#[tokio::test]
async fn two_hundred_stalled_chunked_bodies_are_answered_and_their_connections_closed() {
    let app = spawn_app().await;
    let request = raw_http::stalled_chunked_post("/v1/qr", "");
    // The body never arrives: 408 at the body deadline, then the connection is closed.
    raw_http::assert_held_connections_end(addr(&app.address), &request, 200, 408).await;
}

#[tokio::test]
async fn a_malformed_chunk_size_is_a_400_problem() {
    let app = spawn_app().await;
    raw_http::assert_bad_chunk_sizes_refused(addr(&app.address), "/v1/qr", "").await;
}

#[tokio::test]
async fn a_request_on_a_kept_alive_connection_just_after_the_stop_began_is_answered() {
    let app = spawn_app().await;
    raw_http::assert_request_answered_while_stopping(addr(&app.address), app.stopper.clone(), "/healthz").await;
}
