//! The one way both services talk to Redis: a bounded pool, and every command under a deadline, so a full
//! pool, a dead Redis or a stuck one is a fast error (answered 503), never a hang. The pool reaches a single
//! node, a Redis Cluster (`QRL_REDIS_CLUSTER_NODES`) or the primary a set of sentinels names
//! (`QRL_REDIS_SENTINELS`); callers see no difference.

mod checkout;
mod outage;

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed;
use deadpool_redis::{ConfigError, PoolConfig, PoolError, Runtime, Status, Timeouts, cluster, sentinel};
use redis::aio::ConnectionLike;
use redis::sentinel::{SentinelClient, SentinelServerType};
use secrecy::ExposeSecret;

pub use deadpool_redis::CreatePoolError;

use checkout::{Losses, Unchecked};
use outage::OutageLog;

use crate::config::RedisSettings;

/// Why Redis could not answer. Every variant is the server's fault, never the client's.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no Redis connection available")]
    Pool(#[from] deadpool_redis::PoolError),
    #[error("Redis command failed")]
    Redis(#[from] redis::RedisError),
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("unexpected reply from a script: {0}")]
    Protocol(String),
}

impl StoreError {
    /// The Redis failure anywhere in `cause`'s chain (a service error wrapping a [`StoreError`]), if any.
    pub fn in_chain<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a Self> {
        let mut next = Some(cause);
        while let Some(e) = next {
            if let Some(store) = e.downcast_ref::<Self>() {
                return Some(store);
            }
            next = e.source();
        }
        None
    }

    /// Redis could not be reached or did not answer (not a reply we could not read): the handle's outage log
    /// has already reported it.
    pub fn is_outage(&self) -> bool {
        !matches!(self, Self::Protocol(_))
    }
}

/// A pooled Redis handle, and the clients for pub/sub (which needs a dedicated connection); cheap to clone.
#[derive(Clone)]
pub struct Redis {
    pool: RedisPool,
    command_timeout: Duration,
    connect_timeout: Duration,
    subscribers: Subscribers,
    /// Shared with the pool: a new subscription retires the pooled connections opened before it.
    losses: Losses,
    /// Failed and answered calls, so an outage is logged once, summarised, and ended (not once per call).
    outage: Arc<OutageLog>,
}

impl Redis {
    /// Connections are made lazily, so a service starts (and reports not-ready) while Redis is down.
    pub fn connect(settings: &RedisSettings) -> Result<Self, CreatePoolError> {
        let mut pool = PoolConfig::new(settings.pool_size);
        pool.timeouts = Timeouts {
            wait: Some(settings.wait_timeout),
            create: Some(settings.connect_timeout),
            recycle: Some(settings.command_timeout),
        };
        let losses = Losses::default();
        let bad_url = |e| CreatePoolError::Config(ConfigError::Redis(e));
        let pool = if settings.is_cluster() {
            let manager = cluster::Manager::new(exposed(&settings.cluster_nodes), false).map_err(bad_url)?;
            RedisPool::Cluster(build(manager, pool, &losses)?)
        } else if settings.is_sentinel() {
            let (urls, master) = (exposed(&settings.sentinels), settings.sentinel_master.clone());
            let primary = sentinel::SentinelServerType::Master;
            let manager = sentinel::Manager::new(urls, master, None, primary).map_err(bad_url)?;
            RedisPool::Sentinel(build(manager, pool, &losses)?)
        } else {
            let manager = deadpool_redis::Manager::new(settings.url.expose_secret()).map_err(bad_url)?;
            RedisPool::Single(build(manager, pool, &losses)?)
        };
        let subscribers = if settings.is_sentinel() {
            let (urls, master) = (exposed(&settings.sentinels), settings.sentinel_master.clone());
            let client = SentinelClient::build(urls, master, None, SentinelServerType::Master).map_err(bad_url)?;
            Subscribers::Sentinel(Arc::new(tokio::sync::Mutex::new(client)))
        } else {
            let clients = exposed(&settings.node_urls()).into_iter().map(redis::Client::open);
            Subscribers::Nodes(clients.collect::<Result<_, _>>().map_err(bad_url)?)
        };
        Ok(Self {
            pool,
            command_timeout: settings.command_timeout,
            connect_timeout: settings.connect_timeout,
            subscribers,
            losses,
            outage: Arc::new(OutageLog::new(settings.outage_summary)),
        })
    }

    /// Whether this is a Redis Cluster: a script may then touch one slot only.
    pub fn is_cluster(&self) -> bool {
        matches!(self.pool, RedisPool::Cluster(_))
    }

    /// How many nodes [`Redis::pubsub`] can try (at least one).
    pub fn pubsub_nodes(&self) -> usize {
        match &self.subscribers {
            Subscribers::Nodes(clients) => clients.len().max(1),
            Subscribers::Sentinel(_) => 1,
        }
    }

    /// A dedicated pub/sub connection to node `node` (modulo the node count), within the connect deadline; the
    /// caller subscribes as it needs, each (un)subscription bounded by [`Redis::pubsub_deadline`]. One is made
    /// again when the last was lost, Redis likely with it: the pooled connections opened before it are then not
    /// reused, so the re-reads that follow find fresh ones rather than a dead one each.
    /// Under Sentinel it is made to the primary the sentinels name now, so after a failover the listener's
    /// reconnection follows it.
    pub async fn pubsub(&self, node: usize) -> Result<redis::aio::PubSub, StoreError> {
        let connect = async {
            let pubsub = match &self.subscribers {
                Subscribers::Nodes(clients) => {
                    let Some(client) = clients.get(node % clients.len().max(1)) else {
                        return Err(StoreError::Protocol("no Redis node to subscribe on".to_owned()));
                    };
                    client.get_async_pubsub().await?
                }
                Subscribers::Sentinel(sentinels) => {
                    let primary = sentinels.lock().await.async_get_client().await?;
                    primary.get_async_pubsub().await?
                }
            };
            self.losses.record();
            Ok(pubsub)
        };
        tokio::time::timeout(self.connect_timeout, connect)
            .await
            .unwrap_or(Err(StoreError::Timeout(self.connect_timeout)))
    }

    /// How long a pub/sub (un)subscription may take before the connection is deemed lost (the connect deadline).
    pub fn pubsub_deadline(&self) -> Duration {
        self.connect_timeout
    }

    /// Runs one script (EVALSHA, loading it again after a NOSCRIPT) within the command deadline. On a cluster
    /// it goes to the node owning its first key's slot: every script keeps all its keys in that one slot.
    pub async fn run<T: redis::FromRedisValue>(&self, inv: &redis::ScriptInvocation<'_>) -> Result<T, StoreError> {
        self.bounded(async {
            // Boxed: the checkout future holds deadpool's connect path (many KB); inline, it would sit in every
            // caller's future for the whole call, and in every browser stream's while it reads.
            let mut conn = Box::pin(self.pool.get()).await?;
            Ok(inv.invoke_async(&mut conn).await?)
        })
        .await
    }

    /// Readiness: a PING through the pool (on a cluster, to every master), within the same deadline as any
    /// command.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(async {
            let mut conn = self.pool.get().await?;
            let _: String = redis::cmd("PING").query_async(&mut conn).await?;
            Ok(())
        })
        .await
    }

    /// The pool, for metrics, and for tests and tools that need raw commands.
    pub fn pool(&self) -> &RedisPool {
        &self.pool
    }

    async fn bounded<T>(&self, f: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        let result = tokio::time::timeout(self.command_timeout, f)
            .await
            .unwrap_or(Err(StoreError::Timeout(self.command_timeout)));
        match &result {
            Ok(_) => self.outage.succeeded(),
            Err(e) => self.outage.failed(e),
        }
        result
    }
}

/// Where the pub/sub connection goes.
#[derive(Clone)]
enum Subscribers {
    /// One client per node, in order of preference (see [`RedisSettings::node_urls`]).
    Nodes(Arc<[redis::Client]>),
    /// Whichever primary the sentinels name when the connection is made.
    Sentinel(Arc<tokio::sync::Mutex<SentinelClient>>),
}

fn exposed(urls: &[secrecy::SecretString]) -> Vec<String> {
    urls.iter().map(|u| u.expose_secret().to_owned()).collect()
}

/// A deadpool pool whose checkout costs no round trip (see `checkout`).
fn build<M>(manager: M, config: PoolConfig, losses: &Losses) -> Result<managed::Pool<Unchecked<M>>, CreatePoolError>
where
    M: managed::Manager<Error = redis::RedisError>,
    M::Type: ConnectionLike + Send,
{
    managed::Pool::builder(Unchecked::new(manager, losses.clone()))
        .config(config)
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(CreatePoolError::Build)
}

/// A pool of connections to one Redis, of cluster connections (each reaching every node and routing each
/// command by its key's slot), or of connections to the primary the sentinels name when each is made.
#[derive(Clone)]
pub enum RedisPool {
    Single(managed::Pool<Unchecked<deadpool_redis::Manager>>),
    Cluster(managed::Pool<Unchecked<cluster::Manager>>),
    Sentinel(managed::Pool<Unchecked<sentinel::Manager>>),
}

impl RedisPool {
    /// A pooled connection, waiting at most the pool's wait timeout.
    pub async fn get(&self) -> Result<RedisConnection, PoolError> {
        Ok(match self {
            Self::Single(pool) => RedisConnection::Single(pool.get().await?),
            Self::Cluster(pool) => RedisConnection::Cluster(pool.get().await?),
            Self::Sentinel(pool) => RedisConnection::Sentinel(pool.get().await?),
        })
    }

    pub fn status(&self) -> Status {
        match self {
            Self::Single(pool) => pool.status(),
            Self::Cluster(pool) => pool.status(),
            Self::Sentinel(pool) => pool.status(),
        }
    }
}

/// A connection from a [`RedisPool`], back in the pool when dropped. Any command runs on it: on a cluster,
/// keyed commands go to their slot's master, PING to every master and SCRIPT LOAD to every node.
pub enum RedisConnection {
    Single(managed::Object<Unchecked<deadpool_redis::Manager>>),
    Cluster(managed::Object<Unchecked<cluster::Manager>>),
    Sentinel(managed::Object<Unchecked<sentinel::Manager>>),
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
            Self::Sentinel(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(cmd, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(cmd, offset, count),
            Self::Sentinel(conn) => conn.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
            Self::Sentinel(conn) => conn.get_db(),
        }
    }
}
