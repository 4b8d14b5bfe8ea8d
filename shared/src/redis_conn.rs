//! The one way both services talk to Redis: a bounded pool, and every command under a deadline, so a full
//! pool, a dead Redis or a stuck one is a fast error (answered 503), never a hang.

use std::time::Duration;

use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};
use secrecy::ExposeSecret;

pub use deadpool_redis::CreatePoolError;

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

/// A pooled Redis handle; cheap to clone.
#[derive(Clone)]
pub struct Redis {
    pool: Pool,
    command_timeout: Duration,
}

impl Redis {
    /// Connections are made lazily, so a service starts (and reports not-ready) while Redis is down.
    pub fn connect(settings: &RedisSettings) -> Result<Self, CreatePoolError> {
        let mut cfg = Config::from_url(settings.url.expose_secret());
        let mut pool = PoolConfig::new(settings.pool_size);
        pool.timeouts = Timeouts {
            wait: Some(settings.wait_timeout),
            create: Some(settings.connect_timeout),
            recycle: Some(settings.command_timeout),
        };
        cfg.pool = Some(pool);
        Ok(Self { pool: cfg.create_pool(Some(Runtime::Tokio1))?, command_timeout: settings.command_timeout })
    }

    /// Runs one script (EVALSHA, loading it again after a NOSCRIPT) within the command deadline.
    pub async fn run<T: redis::FromRedisValue>(&self, inv: &redis::ScriptInvocation<'_>) -> Result<T, StoreError> {
        self.bounded(async {
            let mut conn = self.pool.get().await?;
            Ok(inv.invoke_async(&mut conn).await?)
        })
        .await
    }

    /// Readiness: a PING through the pool, within the same deadline as any command.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(async {
            let mut conn = self.pool.get().await?;
            let _: String = redis::cmd("PING").query_async(&mut conn).await?;
            Ok(())
        })
        .await
    }

    /// The pool, for tests and tools that need raw commands.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    async fn bounded<T>(&self, f: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        tokio::time::timeout(self.command_timeout, f).await.unwrap_or(Err(StoreError::Timeout(self.command_timeout)))
    }
}
