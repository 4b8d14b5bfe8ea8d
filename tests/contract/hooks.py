"""Schemathesis hooks for qrlogin's contract run (tests/contract/run.sh).

Generated requests alone never get past the binding cookie or a valid QR, so half of them are pointed at real
logins instead, in every state a browser or phone meets (pending, scanned, confirmed, denied, cancelled),
created through the public API just before the request. The other half go out as generated. Responses are
checked against the document either way.
"""

import os
import random
import threading

import requests
import schemathesis

GATEWAY = os.environ["QRL_CONTRACT_GATEWAY"]
MOBILE = os.environ["QRL_CONTRACT_MOBILE"]
TOKEN = os.environ["QRL_CONTRACT_TOKEN"]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Reproducible with the run's seed; the hooks' own choices stay out of Hypothesis's.
CHOICE = random.Random(int(os.environ.get("QRL_CONTRACT_SEED", "1")))
# Binding cookies of the logins schemathesis itself created (stateful links create -> poll/cancel).
COOKIES: dict[str, str] = {}
LOCK = threading.Lock()


def cookie_of(response: requests.Response) -> str:
    for name in ("qrl_bind", "__Secure-qrl_bind"):
        if name in response.cookies:
            return response.cookies[name]
    raise AssertionError(f"create set no binding cookie: {response.headers}")


def login(state: str) -> dict:
    """A real login in `state`, through the public API as a browser and a phone would."""
    created = requests.post(f"{GATEWAY}/v1/qr", timeout=10)
    created.raise_for_status()
    link = created.json()["qr_content"]
    uuid, verification = link.rsplit("/q/", 1)[1].split(".", 1)
    session = {"uuid": uuid, "verification": verification, "cookie": cookie_of(created), "link": link}
    if state == "pending":
        return session
    if state == "cancelled":
        requests.delete(f"{GATEWAY}/v1/qr/{uuid}", cookies={"qrl_bind": session["cookie"]}, timeout=10)
        return session
    scanned = requests.post(f"{MOBILE}/v1/scan", json={"qr_content": link}, headers=AUTH, timeout=10)
    scanned.raise_for_status()
    if state == "scanned":
        return session
    decision = {"uuid": uuid, "verification": verification}
    if scanned.json().get("check_code_required"):
        shown = requests.get(f"{GATEWAY}/v1/qr/{uuid}", cookies={"qrl_bind": session["cookie"]}, timeout=10)
        decision["check_code"] = shown.json().get("check_code")
    path = "/v1/deny" if state == "denied" else "/v1/confirm"
    requests.post(f"{MOBILE}{path}", json=decision, headers=AUTH, timeout=10).raise_for_status()
    return session


def point_at(case, session: dict) -> None:
    case.path_parameters = {**(case.path_parameters or {}), "uuid": session["uuid"]}
    case.cookies = {**(case.cookies or {}), "qrl_bind": session["cookie"]}


@schemathesis.hook
def before_call(ctx, case, kwargs):
    real = CHOICE.random() < 0.5
    if case.path == "/v1/qr/{uuid}":  # the poll and the cancel
        uuid = (case.path_parameters or {}).get("uuid")
        with LOCK:
            known = COOKIES.get(uuid)
        if known and real:
            case.cookies = {**(case.cookies or {}), "qrl_bind": known}
        elif real:
            point_at(case, login(CHOICE.choice(["pending", "scanned", "confirmed", "denied", "cancelled"])))
        if case.query and case.query.get("wait"):
            # A long-poll on a pending login waits the whole time: keep the run short.
            case.query["wait"] = min(int(case.query["wait"]) if str(case.query["wait"]).isdigit() else 1, 1)
    elif case.path == "/v1/qr/{uuid}/events":
        # A stream on a live login stays open until the login ends: only ended ones, or the generated request.
        if real:
            point_at(case, login(CHOICE.choice(["confirmed", "denied", "cancelled"])))
        else:
            case.cookies = {k: v for k, v in (case.cookies or {}).items() if k != "qrl_bind"}
    elif case.path == "/v1/scan" and real and isinstance(case.body, dict):
        case.body = {**case.body, "qr_content": login("pending")["link"]}
    elif case.path in ("/v1/confirm", "/v1/deny") and real and isinstance(case.body, dict):
        session = login("scanned")
        case.body = {**case.body, "uuid": session["uuid"], "verification": session["verification"]}
    elif case.path == "/v1/me" and real:
        session = login("confirmed")
        answer = requests.get(f"{GATEWAY}/v1/qr/{session['uuid']}", cookies={"qrl_bind": session["cookie"]}, timeout=10)
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {answer.json()['token']}"}
    elif case.path == "/v1/logins/{uuid}" and real:
        case.path_parameters = {"uuid": login(CHOICE.choice(["scanned", "confirmed", "denied"]))["uuid"]}


@schemathesis.hook
def after_call(ctx, case, response):
    if case.path == "/v1/qr" and case.method == "POST" and response.status_code == 201:
        headers = response.headers.get("set-cookie") or response.headers.get("Set-Cookie") or []
        for header in headers if isinstance(headers, list) else [headers]:
            name, _, rest = header.partition("=")
            if name.strip() == "qrl_bind":
                with LOCK:
                    COOKIES[response.json()["uuid"]] = rest.split(";", 1)[0]
