//! Whole logins through the deployment's front door (nginx; the pods' ports under `podman kube play`): the QR read off the PNG, the phone's scan and confirm, the token verified against
//! the JWKS; with long-polls and with an event stream (which nginx must pass unbuffered).

use std::time::Duration;

use serde_json::json;

use crate::deployment::{address_of, assert_token_for_alice, podman, scan_and_confirm, through_nginx};

const EVENT_WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_whole_login_ends_with_a_token_the_jwks_verifies() {
    let stack = through_nginx();
    let login = stack.login().await;
    stack.poll(&login.uuid, Some(&login.binding)).await.expect_json(200, &json!({ "status": "pending" }));

    scan_and_confirm(&stack, &login).await;

    let body = stack.poll(&login.uuid, Some(&login.binding)).await.expect_status(200).clone();
    assert_token_for_alice(&stack, &body).await;
}

#[tokio::test]
async fn an_event_stream_through_nginx_is_told_of_each_step_as_it_happens() {
    let stack = through_nginx();
    let login = stack.login().await;
    let mut events = stack.events(&login.uuid, Some(&login.binding), None).await.expect("the stream opens");
    assert_eq!(events.next_status(EVENT_WAIT).await.json()["status"], "pending");

    let token = stack.user_token("alice");
    stack.scan(&token, &login.qr_text).await.expect_status(200);
    // Told of the scan while the stream stays open: nothing between the browser and the gateway buffers it.
    assert_eq!(events.next_status(EVENT_WAIT).await.json(), json!({ "status": "scanned" }));
    stack.confirm(&token, &login.uuid, &login.verification).await.expect_status(200);
    assert_token_for_alice(&stack, &events.next_status(EVENT_WAIT).await.json()).await;
}

#[tokio::test]
async fn the_services_see_the_callers_address_never_a_forwarded_for_it_sent() {
    // The host calls nginx's published port; on the compose network it is the bridge's gateway address.
    let network =
        podman(&["network", "inspect", "--format", "{{range .Subnets}}{{.Gateway}}{{end}}", "qrlogin_default"]);
    let stack = through_nginx();
    let login = stack.login_with(&[("x-forwarded-for", "203.0.113.66")]).await;

    let requester = scan_and_confirm(&stack, &login).await;

    assert_eq!(requester["ip"], network, "requester: {requester}");
    // nginx's own address would mean the services trusted no proxy, or nginx forwarded nothing.
    assert_ne!(requester["ip"], address_of("nginx"), "requester: {requester}");
}
