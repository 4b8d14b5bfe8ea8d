//! Plain Redis commands (PING, INFO, FLUSHALL, DBSIZE, KEYS, HKEYS, MEMORY USAGE) over one short-lived
//! connection each, with the `redis` crate's blocking client on a blocking thread. A probe costs Redis one
//! command and two socket reads (the command and the close): the connection sends nothing else, not even
//! `CLIENT SETINFO`, which login-bench would count as the services' (they send it too).

use std::collections::BTreeMap;
use std::time::Duration;

use redis::{IntoConnectionInfo, RedisConnectionInfo, Value};

use super::Result;

/// The Redis on 127.0.0.1:`port`, asked one command per connection, each bounded by `timeout` (to connect,
/// to send, to read the reply).
#[derive(Debug, Clone, Copy)]
pub struct RedisProbe {
    pub port: u16,
    pub timeout: Duration,
}

impl RedisProbe {
    /// Sends one command and returns its reply as text (see [`text`]); an error reply is an error.
    pub async fn command(self, args: &[&str]) -> Result<String> {
        let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
        tokio::task::spawn_blocking(move || self.blocking(&args)).await?
    }

    fn blocking(self, args: &[String]) -> Result<String> {
        let redis_error = |e: redis::RedisError| format!("Redis on port {}: {e}", self.port);
        let info = ("127.0.0.1", self.port)
            .into_connection_info()
            .map_err(redis_error)?
            .set_redis_settings(RedisConnectionInfo::default().set_skip_set_lib_name());
        let client = redis::Client::open(info).map_err(redis_error)?;
        let mut conn = client.get_connection_with_timeout(self.timeout).map_err(redis_error)?;
        conn.set_read_timeout(Some(self.timeout)).map_err(redis_error)?;
        conn.set_write_timeout(Some(self.timeout)).map_err(redis_error)?;
        let mut cmd = redis::Cmd::new();
        for a in args {
            cmd.arg(a);
        }
        text(cmd.query::<Value>(&mut conn).map_err(redis_error)?)
    }

    /// `INFO commandstats`: calls so far per command, by Redis's lower-case names (`evalsha`, `memory|usage`).
    pub async fn command_calls(self) -> Result<BTreeMap<String, u64>> {
        command_calls(&self.command(&["INFO", "commandstats"]).await?)
    }
}

/// A reply as text: a simple string, integer or bulk string as it is, nil as nothing, an array as its items'
/// text, one per line (KEYS, HKEYS).
pub fn text(reply: Value) -> Result<String> {
    Ok(match reply {
        Value::Nil => String::new(),
        Value::Okay => "OK".into(),
        Value::SimpleString(s) => s,
        Value::Int(n) => n.to_string(),
        Value::BulkString(bytes) => String::from_utf8(bytes)?,
        Value::Array(items) | Value::Set(items) => items.into_iter().map(text).collect::<Result<Vec<_>>>()?.join("\n"),
        Value::ServerError(e) => return Err(format!("Redis: {e}").into()),
        other => return Err(format!("unexpected Redis reply {other:?}").into()),
    })
}

/// The `cmdstat_<command>:calls=<n>,...` lines of an INFO reply, as calls per command.
pub fn command_calls(info: &str) -> Result<BTreeMap<String, u64>> {
    let mut calls = BTreeMap::new();
    for line in info.lines() {
        let Some((cmd, stats)) = line.trim().strip_prefix("cmdstat_").and_then(|l| l.split_once(':')) else {
            continue;
        };
        let n = stats.split(',').find_map(|f| f.strip_prefix("calls=")).ok_or("cmdstat without calls")?;
        calls.insert(cmd.to_owned(), n.parse()?);
    }
    Ok(calls)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;
    use crate::bench::procs::{free_port, start_redis};

    #[tokio::test]
    async fn a_probe_sends_its_command_alone_and_reads_the_reply_as_text() {
        let dir = std::env::temp_dir().join(format!("qrl-bench-probe-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let redis = RedisProbe { port: free_port().unwrap(), timeout: Duration::from_secs(2) };
        let server = start_redis(Command::new("redis-server"), redis, &dir).await.unwrap();

        assert_eq!(redis.command(&["SET", "k", "v"]).await.unwrap(), "OK");
        assert_eq!(redis.command(&["HSET", "h", "a", "1", "b", "2"]).await.unwrap(), "2");
        assert_eq!(redis.command(&["HKEYS", "h"]).await.unwrap(), "a\nb");
        assert_eq!(redis.command(&["GET", "missing"]).await.unwrap(), "");
        assert!(redis.command(&["MEMORY", "USAGE", "k", "SAMPLES", "0"]).await.unwrap().parse::<u64>().unwrap() > 0);
        assert!(redis.command(&["NOSUCHCOMMAND"]).await.unwrap_err().to_string().contains("unknown command"));
        let calls = redis.command_calls().await.unwrap();
        assert_eq!((calls["set"], calls["hset"], calls["hkeys"]), (1, 1, 1));
        assert!(calls.keys().all(|c| !c.starts_with("client")), "{calls:?}");
        let reads = async || {
            let info = redis.command(&["INFO", "stats"]).await.unwrap();
            let n = info.lines().find_map(|l| l.strip_prefix("total_reads_processed:")).unwrap();
            n.trim().parse::<u64>().unwrap()
        };
        let before = reads().await;
        redis.command(&["PING"]).await.unwrap();
        let after = reads().await;

        // The first INFO's close, the PING and its close, the second INFO: two reads a probe, nothing more
        // (a `CLIENT SETINFO` on connecting would be one more, also where Redis refuses it, before 7.2).
        assert_eq!(after - before, 4);
        drop(server);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replies_of_every_kind_read_as_text() {
        let read = |v: Value| text(v).unwrap();

        assert_eq!(read(Value::SimpleString("PONG".into())), "PONG");
        assert_eq!(read(Value::Okay), "OK");
        assert_eq!(read(Value::Int(42)), "42");
        assert_eq!(read(Value::BulkString(b"hello".to_vec())), "hello");
        assert_eq!(read(Value::Nil), "");
        assert_eq!(read(Value::Array(vec![Value::BulkString(b"a".to_vec()), Value::Int(7)])), "a\n7");
        assert!(text(Value::Double(1.5)).is_err());
    }

    #[test]
    fn commandstats_read_as_calls_per_command() {
        let info = "# Commandstats\r\ncmdstat_evalsha:calls=16,usec=90,usec_per_call=5.62\r\n\
                    cmdstat_memory|usage:calls=3,usec=1\r\nused_memory:100\r\n";

        let calls = command_calls(info).unwrap();

        assert_eq!(calls.len(), 2);
        assert_eq!((calls["evalsha"], calls["memory|usage"]), (16, 3));
        assert!(command_calls("cmdstat_ping:usec=1").is_err());
    }
}
