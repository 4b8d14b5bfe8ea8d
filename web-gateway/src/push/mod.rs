//! Push: browsers wait (long-poll or Server-Sent Events) and are answered the moment the phone acts, on
//! whichever gateway instance they wait. Redis stays the source of truth; notifications only say "re-read".

pub mod listener;
pub mod notifier;
pub mod wait;

pub use notifier::{Full, Notifier, WaiterLimits, Watch};
pub use wait::{Woken, next_change};
