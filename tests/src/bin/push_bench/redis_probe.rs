//! A few plain Redis commands (PING, FLUSHALL, INFO) over one short-lived connection each. The benchmark
//! watches Redis rather than the gateway to learn when every long-poll is waiting: each one's first read
//! is one script call.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::Result;

const TIMEOUT: Duration = Duration::from_secs(2);

/// Sends one command and returns its reply as text (simple string, integer or bulk string).
pub(crate) async fn command(port: u16, args: &[&str]) -> Result<String> {
    let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
    tokio::task::spawn_blocking(move || blocking(port, &args)).await?
}

fn blocking(port: u16, args: &[String]) -> Result<String> {
    let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut request = format!("*{}\r\n", args.len());
    for a in args {
        request.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    (&stream).write_all(request.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let (kind, rest) = line.trim_end().split_at_checked(1).ok_or("empty Redis reply")?;
    match kind {
        "+" | ":" => Ok(rest.to_owned()),
        "-" => Err(format!("Redis: {rest}").into()),
        "$" => {
            let len: usize = rest.parse()?;
            let mut body = vec![0; len + 2];
            reader.read_exact(&mut body)?;
            body.truncate(len);
            Ok(String::from_utf8(body)?)
        }
        _ => Err(format!("unexpected Redis reply {line:?}").into()),
    }
}

/// Script calls (EVAL and EVALSHA) Redis has run so far.
pub(crate) async fn script_calls(port: u16) -> Result<u64> {
    let info = command(port, &["INFO", "commandstats"]).await?;
    let calls = info
        .lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| l.split_once("calls=").and_then(|(_, r)| r.split(',').next()?.parse::<u64>().ok()))
        .sum();
    Ok(calls)
}
