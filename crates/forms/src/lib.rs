#![doc = include_str!("../README.md")]

pub mod error;
pub mod expr;
pub mod load;
pub mod model;
pub mod state;

pub use error::{ErrorKind, FormError, FormErrors};
pub use expr::{Date, Expression, Value};
pub use load::{Sheets, load_csv, load_markdown, load_text, load_workbook, load_xls, load_xlsx};
pub use model::{Choice, Flag, Form, Question, QuestionType, Settings, Summary, Translated};
pub use state::{Answers, Completion, EvalContext, FormState, Issue, IssueKind, Progress};
