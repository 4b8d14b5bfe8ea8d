//! The one wait loop of a browser waiting for news (long-poll and event stream alike). It owns the rule that
//! makes waiting safe: the notification is armed before Redis is read, so a transition published during the
//! read still wakes the waiter. Every wake-up re-reads Redis, the source of truth.

use std::time::Duration;

use tokio::time::Instant;

use super::Watch;
use crate::context::GatewayContext;
use crate::error::GatewayError;
use crate::session_view::{Read, Snapshot, advance};

/// How long a new waiter waits for its session's subscription before reading anyway: the confirmation takes a
/// round trip; if it comes later still, it wakes the waiter to read again.
const SUBSCRIPTION_WAIT: Duration = Duration::from_millis(500);

/// Why [`next_change`] returned, with the snapshot read last.
pub enum Woken {
    /// `changed` accepted this snapshot.
    Changed(Snapshot),
    /// `until` came first: nothing the caller waits for happened.
    TimedOut(Snapshot),
    /// The instance is stopping: answer now.
    Stopping(Snapshot),
}

/// Reads the session until `changed` accepts a snapshot, `until` passes or the instance stops. Between reads it
/// sleeps until a notification for the session, the next due time the snapshot names (QR rotation, expiry),
/// `until`, or shutdown, whichever comes first.
pub async fn next_change<'a>(
    ctx: &GatewayContext,
    watch: &Watch,
    read: impl Fn() -> Read<'a>,
    until: Instant,
    changed: impl Fn(&Snapshot) -> bool,
) -> Result<Woken, GatewayError> {
    let mut first = true;
    loop {
        let notify = watch.notify();
        let notified = notify.notified();
        tokio::pin!(notified);
        // Armed before the read: a transition published during the read still wakes us.
        notified.as_mut().enable();
        if std::mem::take(&mut first) && watch.subscribing() {
            // A read now would miss what is published before the subscription holds, so its confirmation would
            // wake us to read again: wait for it and read once.
            let deadline = until.min(Instant::now() + SUBSCRIPTION_WAIT);
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(deadline) => {}
                () = ctx.shutdown.started() => {}
            }
            continue;
        }
        // Boxed: a read (claim, signing, Redis calls) is a future of many KB, and inline it would sit in every
        // waiter's stream for the whole wait; on the heap it exists only while the read runs.
        let snapshot = Box::pin(advance(ctx, read())).await?;
        if changed(&snapshot) {
            return Ok(Woken::Changed(snapshot));
        }
        if ctx.shutdown.is_started() {
            return Ok(Woken::Stopping(snapshot));
        }
        if Instant::now() >= until {
            return Ok(Woken::TimedOut(snapshot));
        }
        let wake_at = snapshot.wake_in.map_or(until, |due| until.min(Instant::now() + due));
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(wake_at) => {}
            () = ctx.shutdown.started() => {}
        }
    }
}

impl Woken {
    pub fn into_snapshot(self) -> Snapshot {
        match self {
            Self::Changed(s) | Self::TimedOut(s) | Self::Stopping(s) => s,
        }
    }
}
