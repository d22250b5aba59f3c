//! What the Secretariat monitors, computed from what the server holds: the reporting status
//! of every Party and instrument in a cycle ([`reporting`]), the cycles and their deadlines
//! ([`cycles`]), the capacity self-assessments in aggregate only ([`capacity`]), and what
//! people said of the Manual ([`feedback`]). The console ([`crate::console`]) shows it; the
//! forms it is judged against come from the published pack ([`pack`]).

pub mod capacity;
pub mod cycles;
pub mod feedback;
pub mod pack;
pub mod reporting;
