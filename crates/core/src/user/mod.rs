//! The user's own data about the content: checklist ticks and notes, feedback on modules and
//! checklists, bookmarks, reading history and settings. A content import never touches these tables.

pub mod bookmarks;
pub mod checklists;
pub mod feedback;
pub mod recent;
pub mod settings;
