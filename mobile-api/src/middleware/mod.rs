//! What runs around the phone endpoints before and after their handlers: the user's token is checked before
//! any body is read, and every refused token is counted against the client's IP (a client past that limit is
//! refused before its token is looked at).

mod authenticate;
mod bad_tokens;
mod blocked;

pub use authenticate::{AuthenticatedUser, authenticate};
pub use bad_tokens::throttle_bad_tokens;
pub use blocked::BlockedClients;
