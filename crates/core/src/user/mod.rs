//! The user's own data about the content: checklist ticks and notes, bookmarks, reading
//! history and settings. A content import never touches these tables.

pub mod bookmarks;
pub mod checklists;
pub mod recent;
pub mod settings;
