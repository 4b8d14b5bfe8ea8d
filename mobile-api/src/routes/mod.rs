//! One file per endpoint.

mod decide;
mod scan;

pub use decide::decide;
pub use scan::scan;
