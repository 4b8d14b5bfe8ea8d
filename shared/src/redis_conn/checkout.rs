//! A pool checkout that costs Redis nothing. deadpool-redis's own manager checks every connection it hands
//! out with a pipelined `UNWATCH` + `PING`: one extra round trip per Redis call, as many as the calls
//! themselves. Here a pooled connection is handed out as it is, and is dropped instead of reused once it is
//! known to be broken:
//! - a command on it failed in a way that needs a new connection (an I/O error, a closed socket, a `READONLY`
//!   from a primary demoted by a failover), timed out, or
//!   was abandoned before its answer came (the caller's deadline): a connection that stalled once may be stuck, or
//! - Redis was seen to go away since it was opened: a command on another connection failed that way, or the
//!   pub/sub connection had to be made again ([`Losses::record`]). So one failed command (or the gateway's
//!   listener noticing first) sweeps out every idle connection to the Redis that went away, rather than each
//!   one failing a request of its own.
//!
//! A connection idle for longer than [`IDLE_CHECK`] is still asked a `PING` before it is handed out: a Redis
//! restarted, or a connection cut (Redis's `timeout`, a proxy, a NAT) while the service was quiet, would
//! otherwise fail the first request after the pause. Under load connections are never idle that long, so a
//! login pays no check.
//!
//! No `UNWATCH` is needed: nothing the services send leaves state on a connection (every step is one script;
//! no `WATCH`, `MULTI` or `SELECT`), and pub/sub has connections of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use redis::aio::ConnectionLike;
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, ServerErrorKind, Value};

/// A connection unused for longer than this is checked with a `PING` before it is reused.
pub(crate) const IDLE_CHECK: Duration = Duration::from_secs(5);

/// How many times Redis was seen to go away: a connection opened before the latest time is not reused.
#[derive(Clone, Default)]
pub(crate) struct Losses(Arc<AtomicU64>);

impl Losses {
    fn now(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Redis went away (or may have): no connection opened until now is reused.
    pub(crate) fn record(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// A connection opened at `era` broke: Redis went away since then, unless that is already known (a
    /// connection older than the latest loss breaking says nothing about the newer ones).
    fn record_since(&self, era: u64) {
        let _ = self.0.compare_exchange(era, era + 1, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// A deadpool manager that opens connections with `M` and recycles them without a round trip.
pub struct Unchecked<M> {
    inner: M,
    losses: Losses,
    idle_check: Duration,
}

impl<M> Unchecked<M> {
    pub(crate) fn new(inner: M, losses: Losses) -> Self {
        Self { inner, losses, idle_check: IDLE_CHECK }
    }
}

/// A pooled connection, and what the pool needs to know of its health.
pub struct Tracked<C> {
    conn: C,
    /// [`Losses`] when it was opened.
    era: u64,
    broken: bool,
    losses: Losses,
}

impl<M> managed::Manager for Unchecked<M>
where
    M: managed::Manager<Error = RedisError>,
    M::Type: ConnectionLike + Send,
{
    type Type = Tracked<M::Type>;
    type Error = RedisError;

    async fn create(&self) -> Result<Self::Type, RedisError> {
        // Read first: a loss seen while connecting makes the new connection suspect too.
        let era = self.losses.now();
        let conn = self.inner.create().await?;
        Ok(Tracked { conn, era, broken: false, losses: self.losses.clone() })
    }

    async fn recycle(&self, conn: &mut Self::Type, metrics: &Metrics) -> RecycleResult<RedisError> {
        if conn.broken || conn.era != self.losses.now() {
            return Err(RecycleError::message("the connection broke, or Redis went away since it was opened"));
        }
        if metrics.last_used() > self.idle_check {
            let _: () = redis::cmd("PING").query_async(conn).await?;
        }
        Ok(())
    }
}

impl<C> Tracked<C> {
    /// Until its answer comes, a request counts the connection as broken: abandoned half-way (the caller's
    /// deadline dropped it), it stays so.
    async fn request<T>(
        &mut self,
        request: impl AsyncFnOnce(&mut C) -> Result<T, RedisError>,
    ) -> Result<T, RedisError> {
        let was_broken = std::mem::replace(&mut self.broken, true);
        let result = request(&mut self.conn).await;
        self.broken = was_broken;
        if let Err(e) = &result {
            // READONLY: this node was a primary and is a replica now (a Sentinel failover); the others opened
            // as long ago point at it too.
            if e.is_unrecoverable_error() || e.kind() == ErrorKind::Server(ServerErrorKind::ReadOnly) {
                self.broken = true;
                self.losses.record_since(self.era);
            } else if e.is_timeout() {
                self.broken = true;
            }
        }
        result
    }
}

impl<C: ConnectionLike + Send> ConnectionLike for Tracked<C> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(self.request(async move |conn| conn.req_packed_command(cmd).await))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(self.request(async move |conn| conn.req_packed_commands(cmd, offset, count).await))
    }

    fn get_db(&self) -> i64 {
        self.conn.get_db()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use std::time::Duration;

    use deadpool::managed::{Manager, Pool};

    use super::*;

    /// Connections that answer every command with `answer` until told to break.
    struct Fake;

    struct FakeConn {
        /// `None`: never answers.
        answer: Option<Result<(), ErrorKind>>,
    }

    impl Manager for Fake {
        type Type = FakeConn;
        type Error = RedisError;

        async fn create(&self) -> Result<FakeConn, RedisError> {
            Ok(FakeConn { answer: Some(Ok(())) })
        }

        async fn recycle(&self, _: &mut FakeConn, _: &Metrics) -> RecycleResult<RedisError> {
            unreachable!("the unchecked manager never asks the inner one")
        }
    }

    impl ConnectionLike for FakeConn {
        fn req_packed_command<'a>(&'a mut self, _: &'a Cmd) -> RedisFuture<'a, Value> {
            let answer = self.answer.map(|a| a.map(|()| Value::Okay).map_err(|kind| RedisError::from((kind, "fake"))));
            Box::pin(async move {
                match answer {
                    Some(answer) => answer,
                    None => std::future::pending().await,
                }
            })
        }

        fn req_packed_commands<'a>(&'a mut self, _: &'a Pipeline, _: usize, _: usize) -> RedisFuture<'a, Vec<Value>> {
            Box::pin(async { Ok(Vec::new()) })
        }

        fn get_db(&self) -> i64 {
            0
        }
    }

    fn pool(losses: &Losses) -> Pool<Unchecked<Fake>> {
        Pool::builder(Unchecked::new(Fake, losses.clone())).max_size(4).build().unwrap()
    }

    /// A pool that checks every connection it hands out again, as if each had been idle too long.
    fn checking_pool(losses: &Losses) -> Pool<Unchecked<Fake>> {
        let manager = Unchecked { idle_check: Duration::ZERO, ..Unchecked::new(Fake, losses.clone()) };
        Pool::builder(manager).max_size(4).build().unwrap()
    }

    async fn ping(conn: &mut Tracked<FakeConn>) -> Result<Value, RedisError> {
        conn.req_packed_command(&redis::cmd("PING")).await
    }

    #[tokio::test]
    async fn a_healthy_connection_is_handed_out_again_and_a_reply_error_keeps_it() {
        let losses = Losses::default();
        let pool = pool(&losses);
        let id = {
            let mut conn = pool.get().await.unwrap();
            conn.conn.answer = Some(Err(ErrorKind::Server(redis::ServerErrorKind::ResponseError)));
            assert!(ping(&mut conn).await.is_err());
            managed::Object::id(&conn)
        };

        let conn = pool.get().await.unwrap();

        assert_eq!(managed::Object::id(&conn), id, "an error reply is not a broken connection");
        assert_eq!(losses.now(), 0);
    }

    #[tokio::test]
    async fn a_broken_connection_sweeps_out_every_idle_one_opened_before() {
        let losses = Losses::default();
        let pool = pool(&losses);
        let (mut a, b) = (pool.get().await.unwrap(), pool.get().await.unwrap());
        let (id_a, id_b) = (managed::Object::id(&a), managed::Object::id(&b));
        drop(b);

        a.conn.answer = Some(Err(ErrorKind::Io));
        assert!(ping(&mut a).await.is_err());
        drop(a);
        let (c, d) = (pool.get().await.unwrap(), pool.get().await.unwrap());

        let fresh = [managed::Object::id(&c), managed::Object::id(&d)];
        assert!(!fresh.contains(&id_a) && !fresh.contains(&id_b), "both replaced: {fresh:?}");
        assert_eq!(losses.now(), 1);
    }

    #[tokio::test]
    async fn a_recorded_loss_retires_the_idle_connections() {
        let losses = Losses::default();
        let pool = pool(&losses);
        let id = managed::Object::id(&pool.get().await.unwrap());

        losses.record();
        let conn = tokio::time::timeout(Duration::from_secs(1), pool.get()).await.unwrap().unwrap();

        assert_ne!(managed::Object::id(&conn), id);
        assert_eq!(pool.status().size, 1, "the old one is gone, not kept beside the new one");
    }

    #[tokio::test]
    async fn a_request_abandoned_half_way_retires_its_connection_alone() {
        let losses = Losses::default();
        let pool = pool(&losses);
        let (mut stuck, other) = (pool.get().await.unwrap(), pool.get().await.unwrap());
        let (stuck_id, other_id) = (managed::Object::id(&stuck), managed::Object::id(&other));
        drop(other);

        stuck.conn.answer = None;
        assert!(tokio::time::timeout(Duration::from_millis(20), ping(&mut stuck)).await.is_err());
        drop(stuck);
        let (c, d) = (pool.get().await.unwrap(), pool.get().await.unwrap());

        let ids = [managed::Object::id(&c), managed::Object::id(&d)];
        assert!(!ids.contains(&stuck_id) && ids.contains(&other_id), "{ids:?}");
        assert_eq!(losses.now(), 0, "a stall is not Redis going away");
    }

    #[tokio::test]
    async fn an_idle_connection_that_fails_its_ping_is_replaced_before_it_is_handed_out() {
        let losses = Losses::default();
        let pool = checking_pool(&losses);
        let (mut dead, healthy) = (pool.get().await.unwrap(), pool.get().await.unwrap());
        dead.conn.answer = Some(Err(ErrorKind::Io));
        let (dead_id, healthy_id) = (managed::Object::id(&dead), managed::Object::id(&healthy));
        // Returned in this order, the dead one is checked first.
        drop(dead);
        drop(healthy);

        let (c, d) = (pool.get().await.unwrap(), pool.get().await.unwrap());

        let ids = [managed::Object::id(&c), managed::Object::id(&d)];
        assert!(!ids.contains(&dead_id), "the dead one was handed out: {ids:?}");
        assert!(!ids.contains(&healthy_id), "a failed ping is Redis going away: the older idle one goes too");
        assert_eq!(losses.now(), 1);
    }

    #[tokio::test]
    async fn a_readonly_reply_from_a_demoted_primary_sweeps_the_pool_like_a_lost_redis() {
        let losses = Losses::default();
        let pool = pool(&losses);
        let (mut demoted, other) = (pool.get().await.unwrap(), pool.get().await.unwrap());
        let ids = [managed::Object::id(&demoted), managed::Object::id(&other)];
        drop(other);

        demoted.conn.answer = Some(Err(ErrorKind::Server(ServerErrorKind::ReadOnly)));
        assert!(ping(&mut demoted).await.is_err());
        drop(demoted);
        let (c, d) = (pool.get().await.unwrap(), pool.get().await.unwrap());

        let fresh = [managed::Object::id(&c), managed::Object::id(&d)];
        assert!(!fresh.contains(&ids[0]) && !fresh.contains(&ids[1]), "both replaced: {fresh:?}");
        assert_eq!(losses.now(), 1);
    }
}
