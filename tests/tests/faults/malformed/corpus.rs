//! The malformed-request corpus, generated: each route's well-formed request, crossed with a table of ways to
//! break its framing, request line, headers, encoding, method and (for the routes that take one) its body.

use serde_json::json;

/// One route as a well-formed request: where it goes, its request line's parts, the credential it needs, and
/// its JSON body if it takes one.
#[derive(Clone)]
pub struct Route {
    pub addr: String,
    pub method: &'static str,
    pub path: String,
    /// The header line of the route's credential (the binding cookie, the user token), if it needs one.
    pub credential: Option<String>,
    pub body: Option<String>,
}

/// One request of the corpus: what it breaks, and its bytes.
pub struct Case {
    pub name: String,
    pub addr: String,
    pub bytes: Vec<u8>,
}

/// A request being put together: its line, its header lines and its body, rendered with CRLF.
#[derive(Clone)]
struct Req {
    line: Vec<u8>,
    headers: Vec<Vec<u8>>,
    body: Vec<u8>,
}

impl Req {
    /// The route's well-formed request.
    fn of(route: &Route) -> Self {
        let mut req = Self {
            line: format!("{} {} HTTP/1.1", route.method, route.path).into_bytes(),
            headers: vec![b"Host: 127.0.0.1".to_vec()],
            body: Vec::new(),
        };
        if let Some(credential) = &route.credential {
            req = req.with(credential);
        }
        match &route.body {
            Some(body) => req.json(body.as_bytes()),
            None => req,
        }
    }

    fn with(mut self, header: impl AsRef<[u8]>) -> Self {
        self.headers.push(header.as_ref().to_vec());
        self
    }

    /// Without the headers named `name` (any case).
    fn without(mut self, name: &str) -> Self {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.headers.retain(|h| !h.to_ascii_lowercase().starts_with(prefix.as_bytes()));
        self
    }

    /// `body` as JSON with its exact length.
    fn json(self, body: &[u8]) -> Self {
        let req = self.without("content-type").with("Content-Type: application/json");
        req.sized(body)
    }

    /// `body` with its exact length, content type untouched.
    fn sized(self, body: &[u8]) -> Self {
        let mut req = self.without("content-length").with(format!("Content-Length: {}", body.len()));
        req.body = body.to_vec();
        req
    }

    /// `body` as it is, framing headers left to the caller.
    fn raw_body(mut self, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self
    }

    fn line(mut self, line: impl AsRef<[u8]>) -> Self {
        self.line = line.as_ref().to_vec();
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = self.line.clone();
        for header in &self.headers {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(header);
        }
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

type Variants = Vec<(String, Vec<u8>)>;

fn named(name: &str, bytes: Vec<u8>) -> (String, Vec<u8>) {
    (name.to_owned(), bytes)
}

/// Content-Length and Transfer-Encoding gone wrong, chunks gone wrong, line endings, oversized and odd headers.
fn framing(route: &Route) -> Variants {
    let body = route.body.clone().unwrap_or_else(|| "{}".to_owned()).into_bytes();
    let n = body.len();
    let plain = Req::of(route).without("content-length").without("content-type").with("Content-Type: application/json");
    let cl = |value: &str| plain.clone().with(format!("Content-Length: {value}")).raw_body(&body).bytes();
    let chunked = |chunks: &str| plain.clone().with("Transfer-Encoding: chunked").raw_body(chunks.as_bytes()).bytes();
    let chunk = format!("{n:x}\r\n{}\r\n0\r\n\r\n", String::from_utf8_lossy(&body));
    let valid = Req::of(route).bytes();
    let replace_crlf = |by: &[u8]| {
        let mut out = Vec::new();
        let mut rest = &valid[..];
        while let Some(at) = rest.windows(2).position(|w| w == b"\r\n") {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(by);
            rest = &rest[at + 2..];
        }
        out.extend_from_slice(rest);
        out
    };
    let many = (0..200).fold(Req::of(route), |req, i| req.with(format!("X-Many-{i}: {i}")));
    let big = (0..40).fold(Req::of(route), |req, i| req.with(format!("X-Big-{i}: {}", "b".repeat(2048))));
    vec![
        named("content-length longer than the body (truncated)", cl(&(n + 10).to_string())),
        named("content-length shorter than the body", cl("1")),
        named("content-length negative", cl("-1")),
        named("content-length not a number", cl("abc")),
        named("content-length with plus sign", cl(&format!("+{n}"))),
        named("content-length overflowing", cl("99999999999999999999999")),
        named("content-length hexadecimal", cl("0x10")),
        named("content-length empty", cl("")),
        named("content-length as a list", cl(&format!("{n}, {n}"))),
        named(
            "content-length twice, equal",
            plain
                .clone()
                .with(format!("Content-Length: {n}"))
                .with(format!("Content-Length: {n}"))
                .raw_body(&body)
                .bytes(),
        ),
        named(
            "content-length twice, conflicting",
            plain.clone().with("Content-Length: 1").with(format!("Content-Length: {n}")).raw_body(&body).bytes(),
        ),
        named(
            "content-length and chunked",
            plain
                .clone()
                .with(format!("Content-Length: {n}"))
                .with("Transfer-Encoding: chunked")
                .raw_body(chunk.as_bytes())
                .bytes(),
        ),
        named("transfer-encoding unknown", plain.clone().with("Transfer-Encoding: gzip").raw_body(&body).bytes()),
        named(
            "transfer-encoding chunked not last",
            plain.clone().with("Transfer-Encoding: chunked, identity").raw_body(chunk.as_bytes()).bytes(),
        ),
        named(
            "transfer-encoding twice",
            plain
                .clone()
                .with("Transfer-Encoding: chunked")
                .with("Transfer-Encoding: chunked")
                .raw_body(chunk.as_bytes())
                .bytes(),
        ),
        named(
            "transfer-encoding in HTTP/1.0",
            plain
                .clone()
                .line(format!("{} {} HTTP/1.0", route.method, route.path))
                .with("Transfer-Encoding: chunked")
                .raw_body(chunk.as_bytes())
                .bytes(),
        ),
        named("chunk size not hexadecimal", chunked("zz\r\n{}\r\n0\r\n\r\n")),
        named("chunk size overflowing", chunked("1ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n")),
        named("chunk size negative", chunked("-2\r\n{}\r\n0\r\n\r\n")),
        named("chunk size empty", chunked("\r\n{}\r\n0\r\n\r\n")),
        named("chunk larger than its data", chunked("ff\r\n{}\r\n0\r\n\r\n")),
        named("chunk data longer than its size", chunked("1\r\n{}\r\n0\r\n\r\n")),
        named("chunk data without CRLF", chunked("2\r\n{}0\r\n\r\n")),
        named("chunk extension", chunked("2;name=value\r\n{}\r\n0\r\n\r\n")),
        named("chunk extension garbage", chunked("2;;;\"\r\n{}\r\n0\r\n\r\n")),
        named("no last chunk", chunked("2\r\n{}\r\n")),
        named("trailer garbage", chunked("2\r\n{}\r\n0\r\nnot a header\r\n\r\n")),
        named("chunk size with bare LF", chunked("2\n{}\n0\n\n")),
        named("bare LF line endings", replace_crlf(b"\n")),
        named("bare CR line endings", replace_crlf(b"\r")),
        named("a 64 KiB header", Req::of(route).with(format!("X-Big: {}", "a".repeat(65_536))).bytes()),
        named("80 KiB of headers", big.bytes()),
        named("200 headers", many.bytes()),
        named("header without colon", Req::of(route).with("NoColonHere").bytes()),
        named("space before colon", Req::of(route).with("X-Space : 1").bytes()),
        named("obsolete line folding", Req::of(route).with("X-Folded: a\r\n b").bytes()),
        named("NUL in a header value", Req::of(route).with("X-Nul: a\0b").bytes()),
        named("header name with separators", Req::of(route).with("X(Bad)@: 1").bytes()),
        named("empty header name", Req::of(route).with(": value").bytes()),
        named("non-UTF-8 header value", Req::of(route).with(b"X-Bytes: \xff\xfe\x80").bytes()),
    ]
}

/// The request line broken: shape, version, target.
fn request_line(route: &Route) -> Variants {
    let (m, p) = (route.method, route.path.as_str());
    let req = Req::of(route);
    let line = |text: String| req.clone().line(text).bytes();
    let mut raw_target = format!("{m} {p}").into_bytes();
    raw_target.extend_from_slice(b"\xff\xfe HTTP/1.1");
    let mut leading_crlf = b"\r\n".to_vec();
    leading_crlf.extend_from_slice(&req.bytes());
    vec![
        named("garbage line", line("GARBAGE".into())),
        named("method only", line(m.into())),
        named("no version (HTTP/0.9)", line(format!("{m} {p}"))),
        named("HTTP/0.9 simple request", format!("GET {p}\r\n").into_bytes()),
        named("version HTTP/0.9", line(format!("{m} {p} HTTP/0.9"))),
        named("version HTTP/1.0", line(format!("{m} {p} HTTP/1.0"))),
        named("version HTTP/9.9", line(format!("{m} {p} HTTP/9.9"))),
        named("version HTTP/2.0", line(format!("{m} {p} HTTP/2.0"))),
        named("version garbage", line(format!("{m} {p} HTTX/1.1"))),
        named("version lower case", line(format!("{m} {p} http/1.1"))),
        named("extra field", line(format!("{m} {p} HTTP/1.1 extra"))),
        named("double space", line(format!("{m}  {p} HTTP/1.1"))),
        named("tab separated", line(format!("{m}\t{p}\tHTTP/1.1"))),
        named("absolute-form target", line(format!("{m} http://evil.invalid{p} HTTP/1.1"))),
        named("asterisk target", line(format!("{m} * HTTP/1.1"))),
        named("target without slash", line(format!("{m} {} HTTP/1.1", p.trim_start_matches('/')))),
        named("space in target", line(format!("{m} {p}/ x HTTP/1.1"))),
        named("raw non-UTF-8 target", req.clone().line(raw_target).bytes()),
        named("percent-encoded non-UTF-8 target", line(format!("{m} {p}%ff%fe HTTP/1.1"))),
        named("percent-encoded NUL in target", line(format!("{m} {p}%00 HTTP/1.1"))),
        named("bad percent-encoding", line(format!("{m} {p}%zz HTTP/1.1"))),
        named("64 KiB target", line(format!("{m} {p}?{} HTTP/1.1", "q".repeat(65_536)))),
        named("dot segments", line(format!("{m} /v1/../v1/./{} HTTP/1.1", p.trim_start_matches("/v1/")))),
        named("query garbage", line(format!("{m} {p}?wait=abc&known=%zz&&&=&wait=-1 HTTP/1.1"))),
        named("empty line before the request", leading_crlf),
    ]
}

/// Credentials and other headers with values no client should send.
fn headers(route: &Route, valid_token: &str, binding: &str) -> Variants {
    let bare = Req::of(route).without("cookie").without("authorization");
    let base = Req::of(route);
    let cookie_values: [&[u8]; 10] = [
        b"qrl_bind=",
        b"qrl_bind=garbage",
        b"qrl_bind",
        b";;;;=;",
        b"qrl_bind=\"quoted\"",
        b"qrl_bind=\xff\xfe",
        b"qrl_bind=a; qrl_bind=b; qrl_bind=c",
        b"__Secure-qrl_bind=x; qrl_bind=%00",
        b"qrl_bind=../../etc",
        b"=;=;qrl_bind==",
    ];
    let mut out: Variants = cookie_values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let mut header = b"Cookie: ".to_vec();
            header.extend_from_slice(value);
            (format!("cookie oddity {i}"), bare.clone().with(header).bytes())
        })
        .collect();
    let tail = format!("{binding}x");
    out.push(named("binding cookie with a byte added", bare.clone().with(format!("Cookie: qrl_bind={tail}")).bytes()));
    out.push(named("8 KiB cookie", bare.clone().with(format!("Cookie: qrl_bind={}", "c".repeat(8192))).bytes()));
    out.push(named(
        "two Cookie headers",
        bare.clone().with(format!("Cookie: qrl_bind={binding}")).with("Cookie: qrl_bind=x").bytes(),
    ));
    let unsigned = qrlogin_e2e::unsigned_token(&qrlogin_e2e::user_claims("alice"));
    let auth_values: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"Bearer".to_vec(),
        b"Bearer ".to_vec(),
        b"Basic YWxpY2U6eA==".to_vec(),
        b"Bearer a.b.c".to_vec(),
        b"Bearer ...".to_vec(),
        format!("Bearer {valid_token}x").into_bytes(),
        format!("bearer {valid_token}").into_bytes(),
        format!("Bearer  {valid_token}").into_bytes(),
        format!("Bearer {unsigned}").into_bytes(),
        format!("Bearer {}", "t".repeat(8192)).into_bytes(),
        b"Bearer \xff\xfe.\x80.\x00".to_vec(),
        format!("Bearer {valid_token}, Bearer {valid_token}").into_bytes(),
    ];
    for (i, value) in auth_values.iter().enumerate() {
        let mut header = b"Authorization: ".to_vec();
        header.extend_from_slice(value);
        out.push((format!("authorization oddity {i}"), bare.clone().with(header).bytes()));
    }
    out.push(named("two Authorization headers", base.clone().with("Authorization: Bearer x").bytes()));
    let hosts: [&[u8]; 6] =
        [b"Host:", b"Host: 127.0.0.1:99999", b"Host: [::1", b"Host: \xff\xfe", b"Host: evil.invalid", b"Host: a b c"];
    for (i, host) in hosts.iter().enumerate() {
        out.push((format!("host oddity {i}"), base.clone().without("host").with(host).bytes()));
    }
    out.push(named("no Host", base.clone().without("host").bytes()));
    out.push(named("two Host headers", base.clone().with("Host: other.invalid").bytes()));
    let event_ids: [&[u8]; 7] = [b"abc", b"-1", b"99999999999999999999999", b"", b"1e3", b"\xff\xfe", b"1,2"];
    for (i, id) in event_ids.iter().enumerate() {
        let mut header = b"Last-Event-ID: ".to_vec();
        header.extend_from_slice(id);
        out.push((format!("last-event-id oddity {i}"), base.clone().with(header).bytes()));
    }
    out.push(named(
        "1000-char Last-Event-ID",
        base.clone().with(format!("Last-Event-ID: {}", "9".repeat(1000))).bytes(),
    ));
    let others: [&[u8]; 9] = [
        b"User-Agent: \xff\xfe\x80",
        b"User-Agent:",
        b"Origin: null",
        b"Origin: garbage",
        b"Origin: http://evil.invalid",
        b"X-Forwarded-For: not-an-ip, , 999.1.1.1",
        b"Accept: */*;q=abc",
        b"Sec-Fetch-Site: cross-site",
        b"Expect: something-else",
    ];
    for (i, header) in others.iter().enumerate() {
        out.push((format!("header oddity {i}"), base.clone().with(header).bytes()));
    }
    out
}

/// Content encodings that were not applied, charsets and types that are not JSON's, JSON in other encodings.
fn encodings(route: &Route) -> Variants {
    let body = route.body.clone().unwrap_or_else(|| "{}".to_owned());
    let json = Req::of(route).json(body.as_bytes());
    let mut out: Variants = ["gzip", "br", "deflate", "zstd", "gzip, br", "identity", "xyz"]
        .iter()
        .map(|ce| {
            (
                format!("content-encoding {ce} on a plain body"),
                json.clone().with(format!("Content-Encoding: {ce}")).bytes(),
            )
        })
        .collect();
    let types = [
        "application/json; charset=utf-16",
        "application/json; charset=latin1",
        "application/json; charset=\"utf-8\"",
        "application/json;;",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/problem+json",
        "*/*",
    ];
    for ct in types {
        out.push((
            format!("content-type {ct}"),
            json.clone().without("content-type").with(format!("Content-Type: {ct}")).bytes(),
        ));
    }
    out.push(named("no content-type", json.clone().without("content-type").bytes()));
    let utf16le: Vec<u8> = [0xff, 0xfe].into_iter().chain(body.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let utf16be: Vec<u8> = body.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let utf32: Vec<u8> = body.chars().flat_map(|c| u32::from(c).to_le_bytes()).collect();
    let bom: Vec<u8> = [0xef, 0xbb, 0xbf].into_iter().chain(body.bytes()).collect();
    out.push(named("UTF-16LE JSON with BOM", Req::of(route).json(&utf16le).bytes()));
    out.push(named("UTF-16BE JSON without BOM", Req::of(route).json(&utf16be).bytes()));
    out.push(named("UTF-32 JSON", Req::of(route).json(&utf32).bytes()));
    out.push(named("UTF-8 BOM before JSON", Req::of(route).json(&bom).bytes()));
    out.push(named("gzip-labelled UTF-16 body", Req::of(route).json(&utf16le).with("Content-Encoding: gzip").bytes()));
    out
}

/// Every method on the route, known or not.
fn methods(route: &Route) -> Variants {
    let long = "M".repeat(1000);
    let methods =
        ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "FOO", "G3T", "get", &long];
    methods
        .iter()
        .map(|m| {
            let req = Req::of(route).line(format!("{m} {} HTTP/1.1", route.path));
            (format!("method {}", &m[..m.len().min(12)]), req.bytes())
        })
        .collect()
}

/// JSON bodies of the wrong shape, size or content, for the routes that take a body.
fn bodies(route: &Route) -> Variants {
    let deep_array = "[".repeat(3_000);
    let deep_object = "{\"a\":".repeat(600);
    let fields = json!({
        "wrong types": [[], "str", 1, null, true, {"qr_content": 1}, {"qr_content": null}, {"qr_content": {}},
            {"uuid": [], "verification": 1}, {"uuid": "not-a-uuid", "verification": "x"},
            {"uuid": "00000000-0000-0000-0000-000000000000", "verification": ""}],
        "out of range": [{"check_code": 1e308}, {"check_code": -1}, {"check_code": 99_999_999_999_u64},
            {"check_code": "47"}, {"check_code": 4.7}, {"qr_content": "x", "extra": 18_446_744_073_709_551_615_u64}],
    });
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    for (family, values) in fields.as_object().unwrap() {
        for (i, value) in values.as_array().unwrap().iter().enumerate() {
            texts.push((format!("{family} {i}"), value.to_string().into_bytes()));
        }
    }
    let fixed: [(&str, Vec<u8>); 16] = [
        ("deeply nested array", deep_array.into_bytes()),
        ("deeply nested object", deep_object.into_bytes()),
        ("3 KiB string", json!({ "qr_content": "s".repeat(3072), "uuid": "u".repeat(3072) }).to_string().into_bytes()),
        ("5 KiB string (over the limit)", json!({ "qr_content": "s".repeat(5120) }).to_string().into_bytes()),
        ("1 MiB body", vec![b' '; 1 << 20]),
        ("escaped NUL", br#"{"qr_content":"\u0000","uuid":"\u0000","verification":"\u0000"}"#.to_vec()),
        ("raw NUL byte", b"{\"qr_content\":\"a\0b\"}".to_vec()),
        ("lone surrogate", br#"{"qr_content":"\ud800"}"#.to_vec()),
        ("invalid UTF-8 in a string", b"{\"qr_content\":\"\xff\xfe\"}".to_vec()),
        ("duplicate keys", br#"{"qr_content":"a","qr_content":"b","uuid":"a","uuid":"b"}"#.to_vec()),
        ("number too large for any type", b"{\"check_code\":1e99999}".to_vec()),
        ("unterminated", b"{".to_vec()),
        ("missing value", br#"{"a":}"#.to_vec()),
        ("trailing garbage", b"{} x".to_vec()),
        ("empty body", Vec::new()),
        ("only whitespace", b" \r\n\t ".to_vec()),
    ];
    texts.extend(fixed.into_iter().map(|(name, body)| (name.to_owned(), body)));
    texts.into_iter().map(|(name, body)| (format!("body: {name}"), Req::of(route).json(&body).bytes())).collect()
}

/// Bytes that are not HTTP/1 at all, sent to a service.
pub fn not_http(addr: &str) -> Vec<Case> {
    let tls_hello = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec();
    let variants: [(&str, Vec<u8>); 6] = [
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec()),
        ("TLS ClientHello", tls_hello),
        ("only an empty line", b"\r\n\r\n".to_vec()),
        ("NUL bytes", vec![0; 64]),
        ("binary noise", (0..1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()),
        ("a line of text", b"hello\r\n\r\n".to_vec()),
    ];
    variants
        .into_iter()
        .map(|(name, bytes)| Case { name: format!("{addr}: {name}"), addr: addr.to_owned(), bytes })
        .collect()
}

/// The whole corpus for `route`.
pub fn cases(route: &Route, valid_token: &str, binding: &str) -> Vec<Case> {
    let mut variants = framing(route);
    variants.extend(request_line(route));
    variants.extend(headers(route, valid_token, binding));
    variants.extend(encodings(route));
    variants.extend(methods(route));
    if route.method == "POST" {
        variants.extend(bodies(route));
    }
    let label = format!("{} {}", route.method, route.path);
    variants
        .into_iter()
        .map(|(name, bytes)| Case { name: format!("{label}: {name}"), addr: route.addr.clone(), bytes })
        .collect()
}
