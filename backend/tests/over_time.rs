//! Right over time: the pipeline as it lives, hours of simulated time on a hand-driven clock
//! with logs landing (some late), downtime, failing calls and several schedulers at once.

mod over_time {
    pub mod faults;
    pub mod hunt;
    pub mod shared_scan;
    pub mod soak;
    pub mod world;
}
