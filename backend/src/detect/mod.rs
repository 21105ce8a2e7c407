//! Detection: running rules into alerts, routing alerts to integrations, and the in-process
//! scheduler that fires rules on their rate()/cron() expressions.

pub mod due;
pub mod evidence;
pub mod executor;
pub mod router;
pub mod scheduler;
pub mod shared_scan;
pub mod suppressions;

pub use due::{Due, run_due};
pub use executor::{RunOutcome, Scan, run_rule, run_window};
pub use router::{DeliveryMessage, resolve_route, route_alert, route_to};
pub use scheduler::{Fired, SchedulerRunner, Tick, fire, fire_due};
