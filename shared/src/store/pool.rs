use deadpool_redis::{Config, CreatePoolError, Pool, PoolConfig, Runtime, Timeouts};
use secrecy::ExposeSecret;

use crate::config::RedisSettings;

/// Builds the connection pool. Connections are made lazily, so a service starts (and reports not-ready) while
/// Redis is down; every wait is bounded so a full pool or a dead Redis is a fast error, not a hang.
pub fn connect(settings: &RedisSettings) -> Result<Pool, CreatePoolError> {
    let mut cfg = Config::from_url(settings.url.expose_secret());
    let mut pool = PoolConfig::new(settings.pool_size);
    pool.timeouts = Timeouts {
        wait: Some(settings.wait_timeout),
        create: Some(settings.connect_timeout),
        recycle: Some(settings.command_timeout),
    };
    cfg.pool = Some(pool);
    cfg.create_pool(Some(Runtime::Tokio1))
}
